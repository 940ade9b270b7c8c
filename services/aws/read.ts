/**
 * How the readers classify a failed read: a transient failure is a TransientAwsError, anything else an
 * AwsReadError naming the call (TrailNotFoundError and errors already classified pass through). Its own module so
 * that each reader (trail, trail status, log group, role) loads only its own SDK package.
 */
import {
  AwsReadError,
  awsErrorName,
  isTransient,
  TrailNotFoundError,
  TransientAwsError,
} from '../domain/errors.js';

export async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (
      error instanceof TrailNotFoundError ||
      error instanceof AwsReadError ||
      error instanceof TransientAwsError
    )
      throw error;
    const message = `${what} failed: ${(error as Error).message ?? awsErrorName(error)}`;
    if (isTransient(error)) throw new TransientAwsError(message, { cause: error });
    throw new AwsReadError(message, { cause: error });
  }
}

/** Collects every page of a paginated list (the SDK's paginators follow Marker / NextToken). */
export async function all<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(items(page) ?? []));
  return out;
}
