export { createDirectoryClient, type DirectoryConnection } from './directory.client';
export { DirectoryHealthIndicator } from './directory.health';
export { DirectoryModule } from './directory.module';
