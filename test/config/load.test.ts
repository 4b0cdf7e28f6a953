import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, redactConfig, resolveConfigFile } from '../../src/config/load.js';
import { envNameFor } from '../../src/config/schema.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function yamlFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The problems of a config that must fail. */
function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('the configuration was accepted');
}

describe('loadConfig', () => {
  test('no file, no environment: the schema defaults', () => {
    // cwd without config/hubnlu.yaml, so no file applies.
    const { config, source } = loadConfig({ env: {}, cwd: dir });
    assert.equal(source, 'built-in defaults');
    assert.equal(config.mqtt.url, undefined);
    assert.equal(config.mqtt.clientId, 'hubnlu');
    assert.equal(config.mqtt.baseTopic, 'hubnlu');
    assert.equal(config.mqtt.tls.rejectUnauthorized, true);
    assert.deepEqual(config.mqtt.embedded, { host: '127.0.0.1', port: 1883 });
    assert.deepEqual(
      config.input.topics.map((t) => [t.topic, t.format, t.tasks]),
      [['hubnlu/+/utterance', 'auto', ['intent', 'sentiment']]],
    );
    // The Hermes topics moved to the Hermes extension (issue 8), on by default.
    assert.equal(config.extensions.hermes.enabled, true);
    assert.equal(config.extensions.hermes.textCaptured, 'native');
    assert.deepEqual(config.extensions.hermes.queryTasks, ['intent']);
    assert.equal(config.extensions.native.enabled, true);
    assert.equal(config.input.topics[0].resultTopic, '{baseTopic}/{siteId}/result');
    assert.equal(config.input.maxPayloadBytes, 16384);
    assert.equal(config.models.unknownThreshold, undefined, 'absent: the model decides');
    assert.equal(config.storage.path, 'data/hubnlu.db');
    assert.equal(config.log.level, 'info');
  });

  test('which file applies: --config, else HUBNLU_CONFIG, else config/hubnlu.yaml when present', () => {
    assert.equal(resolveConfigFile({ file: 'a.yaml', env: { HUBNLU_CONFIG: 'b.yaml' }, cwd: dir }), join(dir, 'a.yaml'));
    assert.equal(resolveConfigFile({ env: { HUBNLU_CONFIG: 'b.yaml' }, cwd: dir }), join(dir, 'b.yaml'));
    assert.equal(resolveConfigFile({ env: {}, cwd: dir }), undefined);
  });

  test('file over defaults, environment over file; numbers from the environment are coerced', () => {
    const file = yamlFile(
      'layers.yaml',
      ['mqtt:', '  url: mqtt://from-file:1883', '  clientId: kitchen-hub', 'storage:', '  path: file.db', 'input:', '  maxInFlight: 7', 'log:', '  level: warn', ''].join('\n'),
    );
    const fileOnly = loadConfig({ file, env: {}, cwd: dir }).config;
    assert.equal(fileOnly.mqtt.url, 'mqtt://from-file:1883');
    assert.equal(fileOnly.input.maxInFlight, 7);
    assert.equal(fileOnly.mqtt.keepaliveSeconds, 30, 'defaults fill what the file leaves out');

    const env = { HUBNLU_MQTT_URL: 'mqtts://from-env:8883', HUBNLU_STORAGE_PATH: '/var/lib/hubnlu/env.db', HUBNLU_INPUT_MAX_IN_FLIGHT: '64' };
    const { config, source } = loadConfig({ file, env, cwd: dir });
    assert.equal(config.mqtt.url, 'mqtts://from-env:8883');
    assert.equal(config.storage.path, '/var/lib/hubnlu/env.db');
    assert.equal(config.input.maxInFlight, 64);
    assert.equal(typeof config.input.maxInFlight, 'number');
    assert.equal(config.mqtt.clientId, 'kitchen-hub', 'the file still applies where the environment is silent');
    assert.equal(config.log.level, 'warn');
    assert.match(source, /layers\.yaml \+ env HUBNLU_MQTT_URL, HUBNLU_INPUT_MAX_IN_FLIGHT, HUBNLU_STORAGE_PATH/);
  });

  test('an environment value that does not parse is named, not silently dropped', () => {
    const problems = problemsOf(() => loadConfig({ env: { HUBNLU_INPUT_MAX_IN_FLIGHT: 'lots' }, cwd: dir }));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^input\.maxInFlight: must be integer \(a whole number between 1 and 100000\)$/);
  });

  test('a HUBNLU_<section>_ variable that names no setting is an error with the variable meant, not silently ignored', () => {
    const typo = problemsOf(() => loadConfig({ env: { HUBNLU_MQTT_CLEINT_ID: 'hub-a' }, cwd: dir }));
    assert.equal(typo.length, 1, typo.join('\n'));
    assert.match(typo[0], /^HUBNLU_MQTT_CLEINT_ID: no setting has this environment variable \(did you mean HUBNLU_MQTT_CLIENT_ID\? /);
    // The same name one level off (mqtt.port is mqtt.embedded.port), as for YAML keys.
    const moved = problemsOf(() => loadConfig({ env: { HUBNLU_MQTT_PORT: '1884' }, cwd: dir }));
    assert.match(moved[0], /did you mean HUBNLU_MQTT_EMBEDDED_PORT\?/);
    // A part of an object setting: the object takes JSON.
    const part = problemsOf(() => loadConfig({ env: { HUBNLU_MODELS_LANGUAGES_DE_INTENT: 'models/de/intent' }, cwd: dir }));
    assert.match(part[0], /did you mean HUBNLU_MODELS_LANGUAGES \(the whole object, as JSON\)\? /);
    const far = problemsOf(() => loadConfig({ env: { HUBNLU_STORAGE_FLUX: '1' }, cwd: dir }));
    assert.match(far[0], /^HUBNLU_STORAGE_FLUX: no setting has this environment variable \(unset it or fix its name; `hubnlu config schema` lists every setting with its variable\)$/);
    // Variables that are not settings (the config file, the datasets, test switches) and other programs' are left alone.
    const { config } = loadConfig({ env: { HUBNLU_CONFIG_UNUSED: 'x', HUBNLU_DATASETS: '/d', HUBNLU_SLOW_TESTS: '1', HUBNLU_MQTT_CLIENT_ID: 'hub-b', HUBNLUX_MQTT_Y: '1' }, cwd: dir });
    assert.equal(config.mqtt.clientId, 'hub-b');
  });

  test('a list or object setting from the environment is JSON; one that does not parse says so', () => {
    const { config } = loadConfig({ env: { HUBNLU_EXTENSIONS_BRIDGE_ALLOW: '["health_check","label"]' }, cwd: dir });
    assert.deepEqual(config.extensions.bridge.allow, ['health_check', 'label']);
    const problems = problemsOf(() => loadConfig({ env: { HUBNLU_EXTENSIONS_BRIDGE_ALLOW: 'health_check,label' }, cwd: dir }));
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /^extensions\.bridge\.allow: HUBNLU_EXTENSIONS_BRIDGE_ALLOW is not JSON \(a list setting takes JSON in the environment, e\.g\. HUBNLU_EXTENSIONS_BRIDGE_ALLOW='\["/);
  });

  test('env names derive from the schema paths', () => {
    assert.equal(envNameFor('mqtt.url'), 'HUBNLU_MQTT_URL');
    assert.equal(envNameFor('input.maxInFlight'), 'HUBNLU_INPUT_MAX_IN_FLIGHT');
    assert.equal(envNameFor('mqtt.tls.rejectUnauthorized'), 'HUBNLU_MQTT_TLS_REJECT_UNAUTHORIZED');
  });

  test('an unknown key names its path and suggests the setting meant', () => {
    const typo = problemsOf(() => loadConfig({ file: yamlFile('typo.yaml', 'storage:\n  pth: x.db\n'), env: {}, cwd: dir }));
    assert.deepEqual(typo.length, 1);
    assert.match(typo[0], /^storage\.pth: unknown setting \(did you mean storage\.path\?/);

    const swapped = problemsOf(() => loadConfig({ file: yamlFile('swapped.yaml', 'mqtt:\n  ulr: mqtt://x\n'), env: {}, cwd: dir }));
    assert.match(swapped[0], /^mqtt\.ulr: unknown setting \(did you mean mqtt\.url\?/);

    const misplaced = problemsOf(() => loadConfig({ file: yamlFile('misplaced.yaml', 'url: mqtt://x\nmqtt:\n  host: 0.0.0.0\n'), env: {}, cwd: dir }));
    assert.ok(misplaced.some((p) => /^url: unknown setting \(did you mean mqtt\.url\?/.test(p)), misplaced.join('\n'));
    assert.ok(misplaced.some((p) => /^mqtt\.host: unknown setting \(did you mean mqtt\.embedded\.host\?/.test(p)), misplaced.join('\n'));

    const wrongCase = problemsOf(() => loadConfig({ file: yamlFile('case.yaml', 'mqtt:\n  clientid: x\n'), env: {}, cwd: dir }));
    assert.match(wrongCase[0], /did you mean mqtt\.clientId\?/);

    const nothingClose = problemsOf(() => loadConfig({ file: yamlFile('far.yaml', 'mqtt:\n  flux: 1\n'), env: {}, cwd: dir }));
    assert.match(nothingClose[0], /^mqtt\.flux: unknown setting \(remove it or fix its name; `hubnlu config schema` lists every setting\)$/);
  });

  test('models.languages: a key that is no language tag says so; a typo inside a language suggests the setting meant', () => {
    const notATag = problemsOf(() => loadConfig({ file: yamlFile('lang-key.yaml', 'models:\n  languages:\n    german:\n      intent: models/de/intent\n'), env: {}, cwd: dir }));
    assert.match(notATag[0], /^models\.languages\.german: not a language tag \(/);
    assert.match(notATag[0], /"de"/);
    const typo = problemsOf(() => loadConfig({ file: yamlFile('lang-typo.yaml', 'models:\n  languages:\n    de:\n      intnt: models/de/intent\n'), env: {}, cwd: dir }));
    assert.match(typo[0], /^models\.languages\.de\.intnt: unknown setting \(did you mean models\.languages\.de\.intent\?/);
  });

  test('every mistake is listed with its path and a fix, list items included', () => {
    const file = yamlFile(
      'many.yaml',
      ['mqtt:', '  url: ftp://x', 'input:', '  maxPayloadBytes: big', '  topics:', '    - topic: a/+/b', '      format: xml', 'log:', '  level: loud', ''].join('\n'),
    );
    const problems = problemsOf(() => loadConfig({ file, env: {}, cwd: dir }));
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('mqtt.url: must match pattern') && p.includes('e.g. "mqtt://192.168.1.10:1883"')));
    assert.ok(problems.includes('input.maxPayloadBytes: must be integer (bytes between 64 and 1048576)'));
    assert.ok(problems.includes('input.topics.0.format: not an allowed value (one of auto, text, json, hermes)'));
    assert.ok(problems.includes('log.level: not an allowed value (one of fatal, error, warn, info, debug, trace, silent)'));
  });

  test('YAML that does not parse, or is not a mapping, is reported with the file', () => {
    const broken = yamlFile('broken.yaml', 'mqtt:\n  url: [unclosed\n');
    assert.match(problemsOf(() => loadConfig({ file: broken, env: {}, cwd: dir }))[0], /broken\.yaml: not valid YAML/);
    const list = yamlFile('list.yaml', '- a\n- b\n');
    assert.match(problemsOf(() => loadConfig({ file: list, env: {}, cwd: dir }))[0], /the top level must be a mapping/);
    assert.match(problemsOf(() => loadConfig({ file: join(dir, 'absent.yaml'), env: {}, cwd: dir }))[0], /cannot read the file/);
  });

  test('passwordFile is read (trailing newline dropped); a missing one is an error', () => {
    writeFileSync(join(dir, 'secret'), 's3cr3t\n');
    const file = yamlFile('pw.yaml', 'mqtt:\n  url: mqtts://broker:8883\n  username: hub\n  passwordFile: secret\n');
    const { config } = loadConfig({ file, env: {}, cwd: dir });
    assert.equal(config.mqtt.password, 's3cr3t');

    const missing = yamlFile('pw-missing.yaml', 'mqtt:\n  passwordFile: nope.txt\n');
    assert.match(problemsOf(() => loadConfig({ file: missing, env: {}, cwd: dir }))[0], /^mqtt\.passwordFile: file not found: nope\.txt/);

    const both = problemsOf(() => loadConfig({ file, env: { HUBNLU_MQTT_PASSWORD: 'x' }, cwd: dir }));
    assert.match(both[0], /^mqtt\.password: set together with mqtt\.passwordFile/);
  });

  test('redactConfig hides the password and credentials in the URL, and leaves the original alone', () => {
    const { config } = loadConfig({ env: { HUBNLU_MQTT_URL: 'mqtts://hub:hunter2@broker.local:8883', HUBNLU_MQTT_PASSWORD: 'hunter2' }, cwd: dir });
    const shown = redactConfig(config);
    assert.equal(shown.mqtt.password, '[redacted]');
    assert.equal(shown.mqtt.url, 'mqtts://hub:[redacted]@broker.local:8883');
    assert.ok(!JSON.stringify(shown).includes('hunter2'));
    assert.equal(config.mqtt.password, 'hunter2', 'the live config keeps its secret');
  });
});
