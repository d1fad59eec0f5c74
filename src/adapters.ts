/** Starts the chat adapters and notifiers that the configuration asks for. */
import type { App } from './app.ts';
import type { HttpServer } from './http/server.ts';

export interface Adapters {
  names: string[];
  stop(): Promise<void>;
}

export async function startAdapters(_app: App, _http: HttpServer): Promise<Adapters> {
  const stops: Array<() => Promise<void>> = [];
  const names: string[] = [];
  return {
    names,
    async stop() {
      for (const s of stops.reverse()) await s();
    },
  };
}
