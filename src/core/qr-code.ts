import type QRCode from 'qrcode';
import { loadOnFirstUse } from './load-on-first-use.js';

/**
 * A QR code as an inline SVG, for an authenticator's setup link or a phone's pairing link. The
 * qrcode package is loaded at the first code, not at start: most requests never draw one.
 */
export async function qrSvgOf(text: string): Promise<string> {
  const qr = loadOnFirstUse<typeof QRCode>('qrcode');
  return qr.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
