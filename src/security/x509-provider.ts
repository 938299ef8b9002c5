/**
 * The one place that loads @peculiar/x509. It needs `reflect-metadata` loaded first (its ASN.1
 * schemas use decorators) and a WebCrypto provider: node:crypto's, which does Ed25519 on Node 20.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

// node's webcrypto.Crypto and the DOM Crypto type @peculiar/x509 declares are the same API.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
export const subtle = webcrypto.subtle;
