/** A tiny labelled intent set for fast training tests (seconds, not minutes). */
import type { Dataset, LabelledRow } from '../../src/data/rows.js';

const TEMPLATES: Record<string, string[]> = {
  iot_hue_lightoff: ['turn off the {room} lights', 'switch the lights off in the {room}', 'lights off in the {room}', 'kill the {room} light', 'turn the {room} lamp off'],
  iot_hue_lighton: ['turn on the {room} lights', 'switch the lights on in the {room}', 'lights on in the {room}', 'light up the {room}', 'turn the {room} lamp on'],
  weather_query: ['what is the weather in {city}', 'will it rain in {city} today', 'how hot is it in {city}', 'weather forecast for {city}', 'is it sunny in {city}'],
  alarm_set: ['set an alarm for {n} am', 'wake me up at {n}', 'alarm at {n} tomorrow', 'set my alarm to {n} o\'clock', 'please wake me at {n} pm'],
};
const ROOMS = ['kitchen', 'bedroom', 'living room', 'hall', 'bathroom', 'office'];
const CITIES = ['paris', 'london', 'berlin', 'rome', 'madrid', 'oslo'];
const NUMS = ['six', 'seven', '7', 'eight', '9', 'ten'];

export function tinyRows(): LabelledRow[] {
  const rows: LabelledRow[] = [];
  for (const [label, ts] of Object.entries(TEMPLATES)) {
    ts.forEach((t, i) => {
      for (let k = 0; k < 6; k++) {
        const text = t.replace('{room}', ROOMS[(i + k) % 6]).replace('{city}', CITIES[(i + k) % 6]).replace('{n}', NUMS[(i + k) % 6]);
        const start = text.indexOf(ROOMS[(i + k) % 6]);
        const slots = t.includes('{room}') ? [{ type: 'house_place', value: ROOMS[(i + k) % 6], start, end: start + ROOMS[(i + k) % 6].length }] : [];
        rows.push({ text, label, slots, source: 'tiny' });
      }
    });
  }
  return rows;
}

export function tinyDataset(): Dataset {
  return { file: 'tiny.jsonl', rows: tinyRows() };
}

export const TINY_DEV: LabelledRow[] = [
  { text: 'turn off the garage lights', label: 'iot_hue_lightoff', slots: [], source: 'tiny-dev' },
  { text: 'please switch on the lamp in the den', label: 'iot_hue_lighton', slots: [], source: 'tiny-dev' },
  { text: "what's the weather like in tokyo", label: 'weather_query', slots: [], source: 'tiny-dev' },
  { text: 'wake me up at five thirty', label: 'alarm_set', slots: [], source: 'tiny-dev' },
];
