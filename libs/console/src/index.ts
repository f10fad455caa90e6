export { ConsoleModule } from './console.module';
export { CONSOLE_BASE_PATH } from './console-files';
