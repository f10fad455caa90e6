export { HR_REQUESTS_PATH, sendHrRequest, type HrRequest } from './client/hr-request';
export { OffboardingHttpModule } from './application/offboarding.controller';
export { OffboardingModule } from './application/offboarding.module';
export { OFFBOARDING_QUEUE } from './application/offboarding.scheduler';
export { OffboardingReconciler, OffboardingWorkerModule } from './application/offboarding-worker';
export {
  hrWebhookStreamId,
  offboardingStreamId,
  type HrWebhookSecretRotated,
  type OffboardingEvent,
} from './domain/offboarding';
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature } from './domain/webhook-signature';
