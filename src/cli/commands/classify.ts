/** `hubnlu classify "<text>"`: the same JSON as the result topic, without MQTT. */
import type { Command } from 'commander';
import { buildResult } from '../../agent/messages.js';
import type { TaskName } from '../../model/types.js';
import { checkText } from '../../transport/input-parser.js';
import { CliError, EXIT } from '../exit-codes.js';
import { configFor, loadModels } from '../context.js';
import { normalizeLang } from '../../model/language-tags.js';

export function registerClassify(program: Command): void {
  program
    .command('classify')
    .description('classify one utterance with the configured models and print the result JSON')
    .argument('<text...>', 'the utterance (quote it, or pass several words)')
    .option('--site <siteId>', 'site id to put in the result', 'cli')
    .option('--tasks <list>', 'comma-separated tasks: intent,sentiment', 'intent,sentiment')
    .option('--lang <tag>', 'the language of the text (as a payload `lang`: wins over detection), e.g. de or zh-CN')
    .option('--compact', 'print on one line')
    .action(async (words: string[], opts: { site: string; tasks: string; lang?: string; compact?: boolean }, command: Command) => {
      const { config } = configFor(command);
      const text = words.join(' ');
      const problem = checkText(text, { maxPayloadBytes: config.input.maxPayloadBytes, maxTextChars: config.input.maxTextChars });
      if (problem && !problem.ok) throw new CliError(`${problem.code}: ${problem.message}`, EXIT.usage);
      // A payload's `lang` is taken as it comes (an unsupported one is answered `unknown`); typed here, a non-tag is a typo.
      if (opts.lang !== undefined && normalizeLang(opts.lang) === null) {
        throw new CliError(`--lang: ${JSON.stringify(opts.lang)} is not a language tag; use e.g. de or zh-CN`, EXIT.usage);
      }
      const tasks = opts.tasks.split(',').map((t) => t.trim()) as TaskName[];
      if (tasks.length === 0 || !tasks.every((t) => t === 'intent' || t === 'sentiment')) {
        throw new CliError(`--tasks: expected a list drawn from intent,sentiment (got ${JSON.stringify(opts.tasks)})`, EXIT.usage);
      }
      const models = await loadModels(config);
      try {
        const receivedAt = Date.now();
        const started = performance.now();
        const analysis = await models.analyze(text, tasks, opts.lang !== undefined ? { lang: opts.lang, langSource: 'payload' } : undefined);
        const result = buildResult(
          { id: 'cli', siteId: opts.site, sessionId: null, lang: opts.lang ?? null, text, topic: 'cli', receivedAt, request: {} },
          analysis,
          performance.now() - started,
        );
        process.stdout.write(JSON.stringify(result, null, opts.compact ? undefined : 2) + '\n');
      } finally {
        await models.close();
      }
    });
}
