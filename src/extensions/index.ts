/**
 * The registered extensions: the one list the composition root and the config
 * schema read. Adding a protocol is one new file (an `ExtensionDefinition`) and
 * one line here; its settings appear as `extensions.<name>` in the config.
 * Order matters only for inbound topics two extensions both claim (the first wins)
 * and for the order of each input's outbox messages.
 */
import type { TObject } from '@sinclair/typebox';
import { Type } from '../config/type.js';
import type { ExtensionDefinition } from './extension.js';
import { nativeExtension } from './native.js';
import { hermesExtension } from './hermes.js';
import { bridgeExtension } from './bridge.js';
import { homeAssistantExtension } from './home-assistant/extension.js';

export const EXTENSIONS = {
  native: nativeExtension,
  hermes: hermesExtension,
  bridge: bridgeExtension,
  homeAssistant: homeAssistantExtension,
} as const satisfies Record<string, ExtensionDefinition<TObject>>;

export type ExtensionName = keyof typeof EXTENSIONS;

/** `extensions.<name>` for the config schema, built from the list above. */
export function extensionSettingsSchema() {
  const properties = Object.fromEntries(Object.entries(EXTENSIONS).map(([name, d]) => [name, d.settings])) as {
    [K in ExtensionName]: (typeof EXTENSIONS)[K]['settings'];
  };
  return Type.Object(properties, {
    default: {},
    additionalProperties: false,
    description: 'Protocol extensions; each has `enabled` and its own settings.',
    hint: `known extensions: ${Object.keys(EXTENSIONS).join(', ')}`,
  });
}
