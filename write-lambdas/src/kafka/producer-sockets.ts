import { isIP, connect as netConnect, Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ISocketFactory } from "kafkajs";

export interface ProducerSockets {
  /** kafkajs's `socketFactory`: its default one, keeping track of what it opened. */
  readonly factory: ISocketFactory;
  /**
   * Destroys every socket this factory opened and refuses any new one: from here on
   * the producer cannot put a byte on the wire, whatever its retries try.
   */
  cut(): void;
}

const KEEP_ALIVE_MS = 60_000;
const CUT = "this producer was discarded after its deadline";

/** A socket that fails as soon as kafkajs has attached its listeners. */
function refusedSocket(): Socket {
  const socket = new Socket();
  process.nextTick(() => socket.destroy(new Error(CUT)));
  return socket;
}

export function producerSockets(): ProducerSockets {
  const open = new Set<Socket>();
  let cut = false;
  const factory: ISocketFactory = function openProducerSocket({ host, port, ssl, onConnect }) {
    if (cut) return refusedSocket();
    // As kafkajs's own factory does; `ssl` may be `true` (createKafka's MSK IAM setting).
    const socket = ssl
      ? tlsConnect(
          {
            host,
            port,
            ...(isIP(host) === 0 && { servername: host }),
            ...(typeof ssl === "object" && ssl),
          },
          onConnect,
        )
      : netConnect({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_MS);
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    return socket;
  };
  return {
    factory,
    cut() {
      cut = true;
      // With an error, so kafkajs rejects the requests waiting on each socket at once.
      for (const socket of open) socket.destroy(new Error(CUT));
      open.clear();
    },
  };
}

export const DISCARDED_MESSAGE = CUT;
