// Picks a free loopback /24 (127.A.B.0/24) so several clusters can run at once.
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';

function canListen(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Subnets some process listens in (from /proc/net/tcp), so two clusters never pick the same /24. */
function busySubnets(): Set<string> {
  const busy = new Set<string>();
  try {
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (!local) continue;
      // little-endian hex IPv4: "0A00A8C0:1F90" → bytes reversed
      const hex = local.split(':')[0] ?? '';
      const bytes = [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16));
      if (bytes[0] === 127) busy.add(bytes.slice(0, 3).join('.'));
    }
  } catch {
    // no /proc/net/tcp: the bind test below still guards the API server's address
  }
  return busy;
}

/** A random 127.A.B (A in 100..199) where nothing listens and 127.A.B.1:6443 can be bound. */
export async function chooseSubnet(random: () => number = Math.random): Promise<string> {
  const busy = busySubnets();
  for (let attempt = 0; attempt < 50; attempt++) {
    const subnet = `127.${100 + Math.floor(random() * 100)}.${Math.floor(random() * 256)}`;
    if (busy.has(subnet)) continue;
    if (await canListen(`${subnet}.1`, 6443)) return subnet;
  }
  throw new Error('no free loopback /24 found in 127.100.0.0–127.199.255.0 after 50 tries');
}
