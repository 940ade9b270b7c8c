/** Typed helper for adding one SDK middleware to any of the product's clients (tests only). */
import type {
  InitializeHandler,
  InitializeHandlerArguments,
  InitializeHandlerOutput,
  MetadataBearer,
} from '@smithy/types';

type Output = InitializeHandlerOutput<MetadataBearer>;

interface AnyStack {
  add(
    middleware: (
      next: InitializeHandler<object, MetadataBearer>,
      context: { commandName?: string },
    ) => (args: InitializeHandlerArguments<object>) => Promise<Output>,
    options: { step: 'initialize'; name: string },
  ): void;
}

/** Calls `hook` with each response's command name and output, which it may change. */
export function onResponse(
  client: { middlewareStack: unknown },
  name: string,
  hook: (commandName: string, output: Record<string, unknown>) => void,
): void {
  (client.middlewareStack as AnyStack).add(
    (next, context) => async (args) => {
      const out = await next(args);
      hook(context.commandName ?? '', out.output as unknown as Record<string, unknown>);
      return out;
    },
    { step: 'initialize', name },
  );
}
