/**
 * Resolving CloudFormation intrinsics in a synthesized template (Ref, Fn::GetAtt, Fn::Join, Fn::Select,
 * Fn::Split) to plain values, given how to resolve a Ref and a GetAtt. Used by the local workflow runner and by
 * the tests that simulate the template's IAM policies.
 */

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

export interface IntrinsicResolvers {
  ref(logicalId: string): string;
  getAtt(logicalId: string, attribute: string): string;
  /** The error for an intrinsic function not handled here. */
  unsupported(fn: string): Error;
}

export function intrinsicResolver(resolvers: IntrinsicResolvers): (value: unknown) => unknown {
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    const [fn] = keys;
    if (keys.length === 1 && fn && (fn === 'Ref' || fn.startsWith('Fn::'))) {
      const arg = value[fn];
      switch (fn) {
        case 'Ref':
          return resolvers.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attribute] = (Array.isArray(arg) ? arg : String(arg).split('.')).map(String);
          return resolvers.getAtt(String(id), String(attribute));
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown[]];
          return (resolve(parts) as unknown[]).map(String).join(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number | string, unknown];
          return (resolve(list) as unknown[])[Number(index)];
        }
        case 'Fn::Split': {
          const [sep, source] = arg as [string, unknown];
          return String(resolve(source)).split(sep);
        }
        default:
          throw resolvers.unsupported(fn);
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
}
