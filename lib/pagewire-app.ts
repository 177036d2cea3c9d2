/**
 * The CDK app, for `bin/app.ts` and the tests alike: settings from context, one env-agnostic stack
 * (the account and region come from the deploying credentials, so synth needs none), and cdk-nag's
 * AwsSolutions pack as a policy-validation plugin: an unacknowledged finding fails the synth.
 */
import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PagewireStack } from './pagewire-stack.js';
import { settingsFromContext } from './settings.js';

export const STACK_NAME = 'Pagewire';

export function createPagewireApp(props: AppProps = {}) {
  const app = new App(props);
  const settings = settingsFromContext((key) => app.node.tryGetContext(key));
  const stack = new PagewireStack(app, STACK_NAME, {
    settings,
    description: `Pagewire: Facebook Messenger webhooks for many Pages (lock: ${settings.lock})`,
  });
  Tags.of(stack).add('application', 'pagewire');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack, settings };
}
