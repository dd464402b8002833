// Pub/sub between the worker processes of one host when there is no Redis: a worker sends each
// publish to the cluster primary, which relays it to every worker (the sender included, as Redis would).
import { EventEmitter } from "node:events";
import { PubSubEngine } from "graphql-subscriptions";

export interface RelayMessage {
  bullseyeRelay: true;
  trigger: string;
  payload: unknown;
}

export const isRelayMessage = (message: unknown): message is RelayMessage =>
  typeof message === "object" && message !== null && (message as RelayMessage).bullseyeRelay === true;

export class IpcPubSub extends PubSubEngine {
  private readonly events = new EventEmitter().setMaxListeners(0);
  private readonly handlers = new Map<number, { trigger: string; handler: (payload: unknown) => void }>();
  private nextId = 0;

  constructor() {
    super();
    process.on("message", (message: unknown) => {
      if (isRelayMessage(message)) this.events.emit(message.trigger, message.payload);
    });
  }

  async publish(trigger: string, payload: unknown): Promise<void> {
    const message: RelayMessage = { bullseyeRelay: true, trigger, payload };
    process.send?.(message);
  }

  async subscribe(trigger: string, onMessage: (payload: unknown) => void): Promise<number> {
    const id = ++this.nextId;
    this.handlers.set(id, { trigger, handler: onMessage });
    this.events.on(trigger, onMessage);
    return id;
  }

  unsubscribe(id: number): void {
    const entry = this.handlers.get(id);
    if (!entry) return;
    this.events.off(entry.trigger, entry.handler);
    this.handlers.delete(id);
  }
}
