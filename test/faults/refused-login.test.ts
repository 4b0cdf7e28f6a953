/**
 * Issue 7, defect 2: the agent runs with good credentials; the broker is restarted with another password (every
 * attempt refused), then restarted with the good one again. The agent keeps trying with capped backoff, says
 * what the broker said once (not on every attempt), reconnects within a few backoff caps and answers again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askAndCollect, connectClient } from '../helpers/mqtt.js';
import { FaultAgent } from '../helpers/agent-process.js';
import { Mosquitto, mosquittoPath } from '../helpers/mosquitto.js';
import { sleep, waitFor } from '../helpers/net.js';

const PASSWORD = 'Gd7-right-pass';
let broker: Mosquitto;
const setPassword = (pw: string) => execFileSync('mosquitto_passwd', ['-b', '-c', join(broker.dir, 'passwd'), 'hub', pw]);
const skip = mosquittoPath() ? false : 'mosquitto not installed';

before(async () => {
  if (skip) return;
  broker = new Mosquitto({ listener: (port) => [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${join(broker.dir, 'passwd')}`] });
  setPassword(PASSWORD);
  await broker.start();
});
after(() => broker?.stop());

/** Publishes one utterance as a test client and waits for its result. */
async function answered(text: string, id: string): Promise<boolean> {
  const client = await connectClient(broker.url, { username: 'hub', password: PASSWORD, protocolVersion: 5, clientId: `probe-${id}` });
  try {
    const got = await askAndCollect(client, 'hubnlu/hall/utterance', JSON.stringify({ id, text }), (r) => r.id === id);
    return got.some((r) => r.id === id);
  } finally {
    await client.endAsync(true);
  }
}

test('a refused login while running is retried with backoff until the broker accepts again; then the agent answers', { skip, timeout: 120_000 }, async () => {
  const agent = await FaultAgent.start({
    brokerUrl: broker.url,
    dbPath: join(mkdtempSync(join(tmpdir(), 'hubnlu-refused-')), 'hubnlu.db'),
    clientId: 'refused-login',
    settings: { 'mqtt.username': 'hub', 'mqtt.password': PASSWORD, 'mqtt.reconnectPeriodMs': 200, 'mqtt.reconnectMaxMs': 1500 },
  });
  try {
    assert.ok(await answered('turn on the hall light', 'before'), 'no answer before the password change');

    setPassword('changed-on-the-broker');
    await broker.stop();
    await broker.start();
    assert.ok(await agent.waitForLog('broker refused the connection', 15_000), 'the refusal was not logged');
    await sleep(8000); // refused for a while: about 8 attempts per connection at 0.2 .. 1.5 s
    const refusals = agent.logs.filter((l) => l.connection === 'inbound' && l.reasonCode === 135);
    const attempts = Math.max(...refusals.map((l) => Number(l.attempt)));
    assert.ok(attempts >= 5, `${attempts} attempts in 8 s: it stopped retrying`);
    const said = refusals.filter((l) => String(l.msg).startsWith('broker refused the connection'));
    assert.equal(said.length, 1, 'what the broker said is logged once per change');
    assert.match(String(said[0].msg), /CONNACK 135 Not authorized/);
    assert.ok(refusals.length <= 2 + Math.log2(attempts), `${refusals.length} lines for ${attempts} attempts`);

    setPassword(PASSWORD);
    await broker.stop();
    await broker.start();
    const back = agent.logs.length;
    assert.ok(await agent.waitForLog('connected to broker', 5000, back), 'not reconnected within a few backoff caps');
    assert.ok(await answered('turn off the hall light', 'after'), 'no answer after the broker accepted the agent again');
    assert.equal(JSON.stringify(agent.logs).includes(PASSWORD), false, 'the password reached the log');
  } finally {
    await agent.stop();
  }
});
