import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/**
 * OpenAPI at /docs (UI) and /docs/openapi.json. Every operation needs the bearer scheme unless its
 * route is @Public(), which clears the requirement for that operation (security: []).
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Latchkey')
    .setDescription(
      'App passwords for legacy clients, modelled on Microsoft Entra ID. Every error is ' +
        'application/problem+json (RFC 9457) with a stable `type` under https://latchkey.dev/problems/.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addSecurityRequirements('bearer')
    .build();
  const document = describeProblems(SwaggerModule.createDocument(app, config));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json', raw: ['json'] });
}

/** The problem schema, and the 401 that every protected operation can answer. */
function describeProblems(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas = {
    ...document.components.schemas,
    Problem: {
      type: 'object',
      required: ['type', 'title', 'status'],
      properties: {
        type: { type: 'string', format: 'uri' },
        title: { type: 'string' },
        status: { type: 'integer' },
        detail: { type: 'string' },
        instance: { type: 'string' },
        requestId: { type: 'string' },
      },
      additionalProperties: true,
    },
  };
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.get, item.put, item.post, item.delete, item.patch]) {
      if (!operation || operation.security?.length === 0) continue;
      operation.responses['401'] ??= problemResponse('Missing, invalid or expired bearer token');
    }
  }
  return document;
}
