/** JSON schemas shared by routes. Strings are bounded so no field can carry a huge payload. */
export const str = (maxLength = 256, minLength = 1) => ({ type: 'string', minLength, maxLength }) as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const errorResponse = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
} as const;
