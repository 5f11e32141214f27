// The public API of the HanzeNet client library.

export {
  HanzenetClient,
  payloadTextOf,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_WAIT_MS,
  type HanzenetClientOptions,
  type SubmittedTx,
  type BatchItemResult,
  type WaitOptions,
  type ContractCallOptions,
  type ExecuteOptions,
  type SpecialCallOptions,
} from './client.js';
export { ClientError, isClientError, type ClientErrorJson } from './errors.js';
export type { BlockListener, SubscribeBlocksOptions } from './block-feed.js';
export { isFinal, normaliseTxId, normaliseContractHash } from './check.js';
export { normaliseBaseUrl } from './http.js';

export { PrivateKey, isAddress, isValidWIF } from '../core/keys.js';
export { signTx, decodeTx, randomTxIdHex } from '../chain/tx.js';
export { toHex, fromHex } from '../core/bytes.js';
export {
  CREATE_CONTRACT_HASH,
  DELETE_CONTRACT_HASH,
  type Tx,
  type TxStatus,
} from '../chain/types.js';
export type { TxView, BlockView, BlockTxSummary, ContractView, ChainInfo } from '../chain/views.js';
export type { ApiError } from '../chain/views.js';
