export * from './domain-error';
export * from './decider';
export * from './identifiers';
export * from './legacy-protocol';
export * from './tenant-policy';
export * from './tenant.events';
export * from './tenant.commands';
export * from './tenant.decider';
export * from './user.events';
export * from './user.commands';
export * from './user.state';
export * from './user.decider';
export * from './app-passwords.events';
export * from './app-password-name';
export * from './verifier';
export * from './sign-in.policy';
export * from './smart-lockout.policy';
export {
  APP_PASSWORD_ENTROPY_BITS,
  APP_PASSWORD_LENGTH,
  APP_PASSWORD_PREFIX,
  isWellFormedAppPassword,
  mayHoldAppPassword,
  normaliseAppPassword,
  recogniseAppPasswords,
  redactAppPasswords,
} from './app-password-format';
export { AppPasswordSecret, generateAppPassword, type RandomBytes } from './app-password-secret';
