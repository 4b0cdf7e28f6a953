/**
 * The household of the issue-9 acceptance scenario: its rooms, and 60
 * utterances in its own phrasings for two intents the shipped model knows
 * (iot_hue_lightoff, iot_cleaning) and one it does not (iot_garage_open).
 * The phrasings were chosen because the shipped model gets them wrong
 * (checked by the tests, not assumed).
 */
export interface Utterance {
  readonly text: string;
  readonly label: string;
}

export const HOUSEHOLD_TEMPLATES = `language: en
intents:
  HassTurnOn:
    data:
      - sentences:
          - "(switch|turn) on the (lights|lamps) in [the] {area}"
          - "[the] {area} (lights|lamps) on [please]"
        requires_context:
          domain: light
`;

export function householdScenario(): { areas: string[]; utterances: Utterance[] } {
  const rooms = ['den', 'snug', 'boot room', 'attic', 'nursery'];
  const lightoff = ['kill the glow in the ROOM', 'douse the ROOM', 'nix the ROOM lamps', 'snuff out the ROOM'];
  const cleaning = ['hoover the ROOM', 'give the ROOM a once over with the robot', 'get the bot to tidy the ROOM', 'have the robot do the ROOM'];
  const garageVerbs = ['pop up', 'raise', 'lift', 'roll up', 'crack open'];
  const garageThings = ['the garage', 'the garage door', 'the carport', 'the car port door'];
  const utterances: Utterance[] = [];
  for (const p of lightoff) for (const r of rooms) utterances.push({ text: p.replace('ROOM', r), label: 'iot_hue_lightoff' });
  for (const p of cleaning) for (const r of rooms) utterances.push({ text: p.replace('ROOM', r), label: 'iot_cleaning' });
  for (const v of garageVerbs) for (const t of garageThings) utterances.push({ text: `${v} ${t}`, label: 'iot_garage_open' });
  return { areas: ['orangery', 'boot room', 'snug', 'scullery'], utterances };
}
