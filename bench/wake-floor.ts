import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { round, summarize } from "./stats.ts";

/**
 * What waking another process costs on this machine, measured in the same run as W6: a
 * W4-like run crosses three processes one after another (the bench's HTTP start reaches the
 * server, the server's ring wakes the worker, the worker's ring wakes the waiting bench), and
 * each of them sleeps until its message comes. On a virtual machine a sleeping CPU is woken
 * by the host, which took 0.1–0.3 ms a message on the hosts we measured: three of those are a
 * large part of a run that takes 1–2 ms in one process, and no code of ours can save them.
 */
export interface WakeFloor {
  /** A datagram to an idle process and its answer back, `gapMs` after the last: p50 and p90. */
  roundTripMs: number;
  roundTripP90Ms: number;
  /** Half the round trip's p50: one process waking another. */
  oneWayMs: number;
  gapMs: number;
  samples: number;
}

/** The echo process: answers every datagram on a loopback port it prints. */
const echo = `
const s = require("node:dgram").createSocket("udp4");
s.on("message", (m, r) => s.send(m, r.port, "127.0.0.1"));
s.bind(0, "127.0.0.1", () => console.log(s.address().port));
process.stdin.on("end", () => process.exit(0)).resume();
`;

/**
 * Sends `samples` datagrams to a child process that echoes them, each `gapMs` after the last
 * answer, so that both processes have gone idle in between, as the W4-like chain's have.
 */
export async function measureWakeFloor(samples = 200, gapMs = 3): Promise<WakeFloor> {
  const child = spawn(process.execPath, ["-e", echo], { stdio: ["pipe", "pipe", "inherit"] });
  const socket = createSocket("udp4");
  try {
    const [line] = (await once(child.stdout, "data")) as [Buffer];
    const port = Number(line.toString().trim());
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    const times: number[] = [];
    const warmups = 20;
    for (let i = 0; i < warmups + samples; i++) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      const answered = once(socket, "message");
      const t0 = performance.now();
      socket.send(Buffer.of(i & 0xff), port, "127.0.0.1");
      await answered;
      if (i >= warmups) times.push(performance.now() - t0);
    }
    const s = summarize(times);
    return {
      roundTripMs: round(s.median, 4),
      roundTripP90Ms: round(s.p90, 4),
      oneWayMs: round(s.median / 2, 4),
      gapMs,
      samples,
    };
  } finally {
    socket.close();
    child.stdin?.end();
    child.kill();
  }
}
