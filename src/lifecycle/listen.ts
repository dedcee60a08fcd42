// Binding a port, with the error a person can act on: the address and the reason.

import type { Server } from "node:net";

/** Listens on host:port; resolves with the bound port, rejects "cannot listen on HOST:PORT: …". */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) =>
      reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}
