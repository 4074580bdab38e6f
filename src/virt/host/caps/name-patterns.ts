/**
 * Device name patterns as vdsm's `fake_nics` and `hidden_nics` write them: shell wildcards
 * matched as Python's fnmatch does (`*`, `?`, `[seq]`, `[!seq]`; case-sensitive, the whole name).
 */

/** True when `name` matches one of `patterns`. */
export function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => patternRegExp(pattern).test(name));
}

/** fnmatch's translation: a bracket without its closing `]` is a literal `[`. */
function patternRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + (pattern[i + 1] === '!' ? 3 : 2));
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let members = pattern.slice(i + 1, close).replace(/[\\\]]/g, '\\$&');
      if (members.startsWith('!')) members = `^${members.slice(1)}`;
      else if (members.startsWith('^')) members = `\\${members}`;
      source += `[${members}]`;
      i = close;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}
