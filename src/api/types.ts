// What the API needs from the process behind it: the processor implements it, and so does a
// mirror node (which forwards submissions to the processor). The service is declared by the
// ledger layer that implements it (ledger/service.ts), so that processor and node need nothing
// from the API; the JSON shapes it returns (TxView, BlockView, ...) are the chain's wire views,
// chain/views.ts (docs/ARCHITECTURE.md).

export type { ApiError, LedgerService, SubmitResult } from '../ledger/service.js';
