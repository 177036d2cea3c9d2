/**
 * `cdk synth` / `cdk deploy` entry (cdk.json runs it with tsx). Context keys (SPEC §7):
 * `-c lock=redis`, `-c alarmEmail=…`, `-c graphApiVersion=v24.0`, `-c healthCheckSchedule='rate(1 hour)'`,
 * `-c processorMaxConcurrency=50`; also `-c natGateways=1` (with the lock) and `-c humanAgentReplies=true`.
 */
import { createPagewireApp } from '../lib/pagewire-app.js';

const { app } = createPagewireApp();
app.synth();
