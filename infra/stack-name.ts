/**
 * The app's default stack name, in a module of its own so that the CLI (which finds the deployed state machine
 * from the stack's outputs) can use it without loading the CDK.
 */
export const DEFAULT_STACK_NAME = 'Trailguard';

/** The spoke stack's name in the app (a hub only): what the management account deploys itself. */
export const SPOKE_STACK_NAME = 'TrailguardSpoke';
