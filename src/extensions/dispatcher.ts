/**
 * One inbound index: every message the connection delivers goes to the
 * extension that owns its topic, else to the utterance intake (`input.topics`).
 *
 * MQTT.js hands inbound packets to us one at a time and sends a QoS 1 PUBACK
 * only when the handler resolves (REFERENCE.md), so whatever a handler awaits
 * delays every later message on the connection, utterances included. Extensions
 * that do slow work (bridge requests) must therefore resolve `handle()` at once
 * and work on their own queue (see work-queue.ts); the dispatcher itself never
 * waits on anything but the handler it calls.
 */
import type { InboundHandler, InboundMessage } from '../transport/mqtt-connection.js';
import { filterOf, matchTopic } from '../transport/topics.js';
import type { Logger } from '../util/logger.js';

export interface DispatchTarget {
  readonly name: string;
  readonly filters: readonly string[];
  readonly handle: InboundHandler;
}

export class TopicDispatcher {
  private readonly targets: DispatchTarget[] = [];

  constructor(private readonly log: Logger) {}

  /** Targets are tried in the order added: the composition root adds the extensions first, then the intake. */
  addTarget(target: DispatchTarget): void {
    this.targets.push(target);
  }

  /** Every filter to subscribe to, without repeats. */
  subscriptions(): string[] {
    return [...new Set(this.targets.flatMap((t) => t.filters))];
  }

  /** Filters claimed by two targets: the later one never sees those messages. */
  overlaps(): Array<{ filter: string; owner: string; shadowed: string }> {
    const out: Array<{ filter: string; owner: string; shadowed: string }> = [];
    this.targets.forEach((t, i) => {
      for (const filter of t.filters) {
        const owner = this.targets.slice(0, i).find((o) => o.filters.some((f) => f === filter || matchTopic(f, filterOf(filter).replace(/[+#]/g, 'x')) !== null));
        if (owner) out.push({ filter, owner: owner.name, shadowed: t.name });
      }
    });
    return out;
  }

  targetFor(topic: string): DispatchTarget | undefined {
    return this.targets.find((t) => t.filters.some((f) => matchTopic(f, topic) !== null));
  }

  readonly handle: InboundHandler = (msg: InboundMessage): Promise<unknown> => {
    const target = this.targetFor(msg.topic);
    if (!target) {
      // A retained or stale subscription from an earlier configuration: acknowledge and drop.
      this.log.debug({ topic: msg.topic }, 'message on a topic nobody owns; dropped');
      return Promise.resolve();
    }
    return target.handle(msg);
  };
}
