import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerUrlError, isLoopbackHost, parseBrokerUrl } from '../../src/transport/broker-url.js';
import { redactUrl } from '../../src/util/redact.js';

/** Passwords that break a regular expression: '@', ':' and '/' in every position, raw where a URL allows it. */
const PASSWORDS = ['p@ss', 'a:b:c', 'x/y', '@@', 'p@ss:w/rd', 'end@', ':start', 'pct%41', 'sp ace#?'];

test('credentials are decoded exactly, whether percent-encoded or (where a URL allows) raw', () => {
  for (const pw of PASSWORDS) {
    const url = parseBrokerUrl(`mqtt://hub:${encodeURIComponent(pw)}@broker.lan:1883`);
    assert.equal(url.password, pw);
    assert.equal(url.username, 'hub');
    assert.equal(url.hostname, 'broker.lan');
    assert.equal(url.port, 1883);
  }
  // Raw '@' and ':' are legal in the password: the last '@' ends the user info.
  assert.equal(parseBrokerUrl('mqtt://hub:p@ss:w@rd@broker.lan').password, 'p@ss:w@rd');
  assert.equal(parseBrokerUrl('mqtts://hub:a:b@[::1]:8883').hostname, '::1');
  assert.equal(parseBrokerUrl('wss://broker.lan/mqtt').path, '/mqtt');
  assert.equal(parseBrokerUrl('tls://broker.lan').tls, true);
  assert.equal(parseBrokerUrl('tcp://broker.lan').tls, false);
});

test('a URL whose password was cut short by a raw "/", "?" or "#" is refused without repeating it', () => {
  for (const raw of ['mqtt://hub:x/y@broker.lan', 'mqtt://hub:12/34@broker.lan', 'mqtt://hub:a@b/c@broker.lan', 'mqtt://hub:a?b@broker.lan', 'mqtt://hub:a#b@broker.lan']) {
    assert.throws(() => parseBrokerUrl(raw), (err: Error) => {
      assert.ok(err instanceof BrokerUrlError, String(err));
      assert.match(err.message, /percent-encode|passwordFile/);
      for (const part of ['x/y', '12/34', 'a@b', 'b/c', 'a?b', 'a#b']) assert.equal(err.message.includes(part), false, `${raw}: ${err.message}`);
      return true;
    });
  }
  assert.throws(() => parseBrokerUrl('mqtt://broker.lan/path'), /a path has no meaning/);
  assert.throws(() => parseBrokerUrl('mqtt://broker.lan?clientId=x'), /query/);
  assert.throws(() => parseBrokerUrl('http://broker.lan'), /unsupported scheme/);
});

test('redactUrl never shows any part of a password holding "@", ":" or "/", encoded or not', () => {
  for (const pw of PASSWORDS) {
    for (const written of [encodeURIComponent(pw), pw]) {
      const raw = `mqtt://hub:${written}@broker.lan:1883`;
      const shown = redactUrl(raw);
      const parts = pw.split(/[@:/ #?%]/).filter((p) => p.length >= 2);
      for (const part of [pw, written, ...parts]) assert.equal(shown.includes(part), false, `${raw} → ${shown} shows ${part}`);
      assert.ok(shown === 'mqtt://hub:[redacted]@broker.lan:1883' || shown === 'mqtt://[redacted]', `${raw} → ${shown}`);
    }
  }
  assert.equal(redactUrl('mqtts://broker.lan:8883'), 'mqtts://broker.lan:8883');
  assert.equal(redactUrl('ws://hub:pw@broker.lan:9001/mqtt'), 'ws://hub:[redacted]@broker.lan:9001/mqtt');
  assert.equal(redactUrl('not a url :secret@x'), 'url://[redacted]');
});

test('loopback hosts', () => {
  for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', 'LOCALHOST']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['broker.lan', '192.168.1.10', '127.0.0.1.evil.example', '::ffff:10.0.0.1', '128.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
});
