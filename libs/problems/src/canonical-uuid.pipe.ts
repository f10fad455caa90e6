import { Injectable, ParseUUIDPipe, type ArgumentMetadata } from '@nestjs/common';

/**
 * `@Param('id', CanonicalUuid)`: a UUID in either case (Windows tools print GUIDs in capitals), passed
 * on in lower case, the one spelling ids have in stream ids, read models and map keys; anything else
 * is a 400 as with ParseUUIDPipe.
 */
@Injectable()
class CanonicalUuidPipe extends ParseUUIDPipe {
  override async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    return (await super.transform(value, metadata)).toLowerCase();
  }
}

export const CanonicalUuid = new CanonicalUuidPipe();
