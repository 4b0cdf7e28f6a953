// NLP.js ships no type declarations; the compare bench types what it uses itself.
declare module '@nlpjs/core' {
  export function containerBootstrap(): Promise<{
    use(plugin: unknown): void;
    get(name: string): unknown;
    registerConfiguration(tag: string, settings: Record<string, unknown>, overwrite?: boolean): void;
  }>;
}
declare module '@nlpjs/nlp' {
  export const Nlp: unknown;
}
