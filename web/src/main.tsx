// The dashboard's entry: renders the page into #app (index.html).
import { render } from 'preact';
import { App } from './app.js';
import './style.css';
import './views.css';

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');
render(<App />, root);
