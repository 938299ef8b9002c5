/**
 * The CLI's check that a gateway's `data` is what the replicas signed: byte equality of
 * the passed-through value when the body has the gateway's form, else (false here) the
 * parsed comparison.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { signedTextIsData } from '../../src/cli/wallet-http.ts';

const value = '{"entries":[{"type":"transfer","from":"a","to":"b","amount":"5"}],"nextCursor":null}';
const evidence = '{"clientId":1000,"session":1,"seq":3,"ordered":false,"result":"eyJvayI6dHJ1ZX0","resultDigest":"x","replicas":[]}';
const body = (data: string) => `{"data":${data},"evidence":${evidence}}`;

describe('wallet CLI: signed result against the body', () => {
  it('accepts the gateway form whose data is the signed value byte for byte', () => {
    assert.equal(signedTextIsData(`{"ok":true,"value":${value}}`, body(value)), true);
  });

  it('refuses (falls back) when one byte differs, the lengths differ, or either text has another form', () => {
    assert.equal(signedTextIsData(`{"ok":true,"value":${value}}`, body(value.replace('"5"', '"6"'))), false);
    assert.equal(signedTextIsData(`{"ok":true,"value":${value}}`, body(value.replace('"5"', '"50"'))), false);
    assert.equal(signedTextIsData(`{"ok":true,"value":${value}}`, `{"evidence":${evidence},"data":${value}}`), false);
    assert.equal(signedTextIsData(`{"value":${value},"ok":true}`, body(value)), false);
    assert.equal(signedTextIsData(`{"ok":true,"value":${value}}`, '{"data":1}'), false);
  });
});
