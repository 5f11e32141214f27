// The create and delete payloads (shared PROTOCOL.md section 4): what a transaction to the
// special hashes 00..00 (create) and ff..ff (delete) carries, and the contract hash. Shared by the
// runtime, which checks them in block order (runtime/lifecycle.ts), and by authoring, which packs
// a contract into a create payload and checks the result with these same rules (authoring/pack.ts).

import { utf8Decode, utf8Encode, toHex } from '../core/bytes.js';
import { hash256 } from '../core/hash.js';
import type { ContractManifest, Template } from '../chain/contract-model.js';
import { parseManifest } from './manifest.js';
import { checkPayload, checkTemplateDefinition } from './template.js';

export const CONTRACT_TYPE_CHARS_MAX = 64;
export const CONTRACT_VERSION_CHARS_MAX = 32;
export const CONTRACT_DESCRIPTION_CHARS_MAX = 256;

/** A contract as a create payload describes it, before it is on chain. */
export interface ContractDraft {
  readonly hashHex: string;
  readonly type: string;
  readonly version: string;
  readonly description: string;
  readonly template: Template;
  readonly validanaVersion: 1 | 2;
  readonly manifest: ContractManifest;
  readonly code: string;
}

export type CreateParse = { ok: true; draft: ContractDraft } | { ok: false; message: string };
export type DeleteParse = { ok: true; hashHex: string } | { ok: false; message: string };

const field = (type: string, desc: string): { type: string; name: string; desc: string } => ({
  type,
  name: desc,
  desc,
});

/** The create payload's template, checked with version-2 rules as Validana does. */
const CREATE_TEMPLATE: Template = {
  type: field('str', 'type'),
  version: field('str', 'version'),
  description: field('str', 'description'),
  template: field('json', 'template'),
  init: field('base64', 'init'),
  code: field('base64', 'code'),
  validanaVersion: field('uint?', 'validanaVersion'),
};

const DELETE_TEMPLATE: Template = { hash: field('hash', 'hash') };

/** hash256 of the UTF-8 code text; validanaVersion 2 puts `"use strict";` in front first. */
export function contractHashHex(code: string, validanaVersion: number): string {
  return toHex(hash256(utf8Encode(validanaVersion === 2 ? `"use strict";${code}` : code)));
}

function base64Text(
  value: string,
  what: string,
): { ok: true; text: string } | { ok: false; message: string } {
  try {
    return { ok: true, text: utf8Decode(Buffer.from(value, 'base64')) };
  } catch {
    return { ok: false, message: `${what} is not base64 of UTF-8 text` };
  }
}

function templateOf(
  value: unknown,
): { ok: true; template: Template } | { ok: false; message: string } {
  let t = value;
  if (typeof value === 'string') {
    try {
      t = JSON.parse(value);
    } catch {
      return { ok: false, message: 'template is a string that is not JSON' };
    }
  }
  if (t === undefined) return { ok: false, message: 'template is missing' };
  return checkTemplateDefinition(t);
}

/** Parses a create payload into a draft, or says exactly what is wrong with it. */
export function parseCreatePayload(payloadText: string): CreateParse {
  const checked = checkPayload(CREATE_TEMPLATE, payloadText, { validanaVersion: 2 });
  if (!checked.ok) return { ok: false, message: checked.message };
  const p = checked.payload as {
    type: string;
    version: string;
    description: string;
    template: unknown;
    init: string;
    code: string;
    validanaVersion?: number;
  };
  if (p.type.length === 0 || p.type.length > CONTRACT_TYPE_CHARS_MAX)
    return {
      ok: false,
      message: `type must be 1 to ${CONTRACT_TYPE_CHARS_MAX} characters, got ${p.type.length}`,
    };
  if (p.version.length > CONTRACT_VERSION_CHARS_MAX)
    return {
      ok: false,
      message: `version must be at most ${CONTRACT_VERSION_CHARS_MAX} characters, got ${p.version.length}`,
    };
  if (p.description.length > CONTRACT_DESCRIPTION_CHARS_MAX)
    return {
      ok: false,
      message: `description must be at most ${CONTRACT_DESCRIPTION_CHARS_MAX} characters, got ${p.description.length}`,
    };
  const validanaVersion = p.validanaVersion ?? 1;
  if (validanaVersion !== 1 && validanaVersion !== 2)
    return { ok: false, message: `validanaVersion must be 1 or 2, got ${validanaVersion}` };
  const template = templateOf(p.template);
  if (!template.ok) return { ok: false, message: template.message };
  const init = base64Text(p.init, 'init');
  if (!init.ok) return { ok: false, message: init.message };
  const manifest = parseManifest(init.text);
  if (!manifest.ok) return { ok: false, message: manifest.message };
  if (p.code === '')
    return { ok: false, message: 'code is empty; it must hold the contract function (base64)' };
  const code = base64Text(p.code, 'code');
  if (!code.ok) return { ok: false, message: code.message };
  return {
    ok: true,
    draft: {
      hashHex: contractHashHex(code.text, validanaVersion),
      type: p.type,
      version: p.version,
      description: p.description,
      template: template.template,
      validanaVersion,
      manifest: manifest.manifest,
      code: code.text,
    },
  };
}

/** Parses a delete payload {"hash": "<64 hex>"}; the hash comes back lowercase. */
export function parseDeletePayload(payloadText: string): DeleteParse {
  const checked = checkPayload(DELETE_TEMPLATE, payloadText, { validanaVersion: 2 });
  if (!checked.ok) return { ok: false, message: checked.message };
  return { ok: true, hashHex: String(checked.payload['hash']).toLowerCase() };
}
