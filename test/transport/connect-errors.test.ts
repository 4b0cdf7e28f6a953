import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyConnectError, type ConnectContext } from '../../src/transport/connect-errors.js';

const v5: ConnectContext = { clientId: 'hubnlu', protocolVersion: 5, hostname: 'broker.lan', username: 'hub', tls: true };
const v4: ConnectContext = { ...v5, protocolVersion: 4 };
const withCode = (message: string, code: number | string) => Object.assign(new Error(message), { code });

test('refused CONNACKs that need a person name the setting and the fix, for MQTT 5 and 3.1.1 codes', () => {
  const cases: Array<[number, ConnectContext, string, RegExp]> = [
    [132, v5, 'mqtt.protocolVersion', /set mqtt\.protocolVersion: 4/],
    [1, v5, 'mqtt.protocolVersion', /set mqtt\.protocolVersion: 4/], // a 3.1.1-only broker answering an MQTT 5 CONNECT (aedes)
    [1, v4, 'mqtt.protocolVersion', /set mqtt\.protocolVersion: 5/],
    [134, v5, 'mqtt.password', /mqtt\.username and mqtt\.password/],
    [4, v4, 'mqtt.password', /mqtt\.passwordFile/],
    [135, v5, 'mqtt.username', /user "hub"/],
    [5, v4, 'mqtt.username', /user "hub"/],
    [133, v5, 'mqtt.clientId', /client id "hubnlu"/],
    [2, v4, 'mqtt.clientId', /another mqtt\.clientId/],
  ];
  for (const [code, ctx, setting, fix] of cases) {
    const f = classifyConnectError(withCode('Connection refused', code), ctx);
    assert.equal(f.config?.setting, setting, `code ${code}`);
    assert.match(f.config!.fix, fix, `code ${code}`);
    assert.equal(f.reasonCode, code);
    assert.match(f.reason, new RegExp(`^CONNACK ${code} `));
  }
});

test('a busy or unavailable broker and network failures are retried, not fatal', () => {
  for (const code of [3, 136, 137, 139, 159]) assert.equal(classifyConnectError(withCode('refused', code), v5).config, undefined, `code ${code}`);
  for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'CERT_NOT_YET_VALID']) {
    const f = classifyConnectError(withCode(`connect ${code} 10.0.0.9:1883`, code), v5);
    assert.equal(f.config, undefined, code);
    assert.equal(f.cause, `net:${code}`);
  }
  assert.equal(classifyConnectError(new Error('connack timeout'), v5).config, undefined);
});

test('certificate problems point at mqtt.tls.ca or mqtt.url', () => {
  assert.equal(classifyConnectError(withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), v5).config?.setting, 'mqtt.tls.ca');
  assert.equal(classifyConnectError(withCode('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), v5).config?.setting, 'mqtt.tls.ca');
  const host = classifyConnectError(withCode("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'), v5);
  assert.equal(host.config?.setting, 'mqtt.url');
  assert.match(host.config!.fix, /"broker\.lan"/);
  assert.equal(classifyConnectError(withCode('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), v5).config?.setting, 'mqtt.url');
});
