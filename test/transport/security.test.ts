/**
 * mqtts:// with a CA, a client certificate and a password file against a real
 * mosquitto that requires all three; the password never reaches logs or reports.
 */
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { askAndCollect, connectClient } from '../helpers/mqtt.js';
import { Mosquitto, mosquittoPath } from '../helpers/mosquitto.js';
import { runCli, startAgentProcess, type AgentProcess } from '../helpers/cli.js';

const PASSWORD = 'S3cret-Sauce-9f2c';
const haveTools = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    execFileSync('mosquitto_passwd', ['-h'], { stdio: 'ignore' });
  } catch (err) {
    // mosquitto_passwd -h exits 1 while printing usage; only a missing binary matters
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
  }
  return mosquittoPath() !== undefined;
})();

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate. */
function makePki(dir: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hubnlu-test-ca', '-keyout', 'ca.key', '-out', 'ca.crt'], dir);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr'], dir);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.crt'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=hubnlu', '-keyout', 'client.key', '-out', 'client.csr'], dir);
  openssl(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'client.crt'], dir);
}

describe('TLS, client certificates and passwords', { skip: haveTools ? false : 'openssl or mosquitto missing' }, () => {
  let broker: Mosquitto;
  let agent: AgentProcess | undefined;
  let env: Record<string, string>;

  before(async () => {
    broker = new Mosquitto({
      listener: (port) => [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${join(broker.dir, 'passwd')}`,
        `cafile ${join(broker.dir, 'ca.crt')}`,
        `certfile ${join(broker.dir, 'server.crt')}`,
        `keyfile ${join(broker.dir, 'server.key')}`,
        'require_certificate true',
      ],
    });
    makePki(broker.dir);
    execFileSync('mosquitto_passwd', ['-b', '-c', join(broker.dir, 'passwd'), 'hubnlu', PASSWORD]);
    writeFileSync(join(broker.dir, 'password.txt'), `${PASSWORD}\n`, { mode: 0o600 });
    await broker.start();
    env = {
      HUBNLU_MQTT_URL: `mqtts://127.0.0.1:${broker.port}`,
      HUBNLU_MQTT_CLIENT_ID: 'hubnlu-tls',
      HUBNLU_MQTT_USERNAME: 'hubnlu',
      HUBNLU_MQTT_PASSWORD_FILE: join(broker.dir, 'password.txt'),
      HUBNLU_MQTT_TLS_CA: join(broker.dir, 'ca.crt'),
      HUBNLU_MQTT_TLS_CERT: join(broker.dir, 'client.crt'),
      HUBNLU_MQTT_TLS_KEY: join(broker.dir, 'client.key'),
      HUBNLU_STORAGE_PATH: join(broker.dir, 'hubnlu.db'),
      HUBNLU_LOG_LEVEL: 'debug',
    };
  });

  after(async () => {
    if (agent && agent.child.exitCode === null) {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
    await broker?.stop();
  });

  test('the agent connects over mqtts with a client certificate and a password file, and answers', { timeout: 60_000 }, async () => {
    agent = startAgentProcess(env);
    await agent.ready;
    const client = await connectClient(`mqtts://127.0.0.1:${broker.port}`, {
      username: 'hubnlu',
      password: PASSWORD,
      ca: readFileSync(join(broker.dir, 'ca.crt')),
      cert: readFileSync(join(broker.dir, 'client.crt')),
      key: readFileSync(join(broker.dir, 'client.key')),
    });
    const got = await askAndCollect(client, 'hubnlu/office/utterance', 'turn on the office lights', () => true, 10_000);
    assert.ok(got.length > 0, 'no result over TLS');
    assert.equal(got[0].siteId, 'office');
    await client.endAsync();
    agent.child.kill('SIGTERM');
    assert.equal((await agent.exited).code, 0);
    const allOutput = JSON.stringify(agent.logs);
    assert.ok(allOutput.includes('[redacted]') || !allOutput.includes('password'), 'debug config dump present and redacted');
    assert.equal(allOutput.includes(PASSWORD), false, 'the password reached the log');
  });

  test('config check never prints the password', () => {
    const r = runCli(['config', 'check', '--json'], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.includes(PASSWORD), false);
    assert.equal(JSON.parse(r.stdout).config.mqtt.password, '[redacted]');
  });

  test('a wrong password is refused with a clear error and no secret in the output', { timeout: 30_000 }, async () => {
    const wrong = join(broker.dir, 'wrong.txt');
    writeFileSync(wrong, 'not-the-password-123\n');
    const bad = startAgentProcess({ ...env, HUBNLU_MQTT_PASSWORD_FILE: wrong, HUBNLU_MQTT_CLIENT_ID: 'hubnlu-wrong' });
    const exit = await bad.exited;
    assert.notEqual(exit.code, 0);
    const text = JSON.stringify(bad.logs);
    assert.match(text, /Not authorized|Bad User Name or Password|refused/i);
    assert.equal(text.includes('not-the-password-123'), false);
  });
});
