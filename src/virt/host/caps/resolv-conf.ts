/** /etc/resolv.conf -> capabilities' nameservers, in the file's order. */
export function parseNameservers(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] === 'nameserver' && fields[1] !== undefined) servers.push(fields[1]);
  }
  return servers;
}
