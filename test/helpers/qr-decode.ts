import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { chromium } from 'playwright-core';

// jsqr is CommonJS with an `export default` typing: under NodeNext the function is `.default`.
const jsQR = jsQRModule.default;

/**
 * Decodes a QR code given as SVG markup the way a phone camera would see it: Chromium renders
 * the SVG exactly as served (no parsing of our own), the screenshot goes to jsQR.
 * Returns the decoded text, or null when no QR code can be read.
 */
export async function decodeQrSvg(svg: string): Promise<string | null> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 400, height: 400 } });
    // A white page with the SVG scaled to 360 px, so every module is several pixels wide.
    await page.setContent(
      `<!doctype html><html><body style="margin:0;background:#fff">` +
        `<div id="qr" style="width:360px;height:360px;padding:20px;background:#fff">${svg}</div>` +
        `<style>#qr svg{width:360px;height:360px;display:block}</style></body></html>`,
    );
    const png = PNG.sync.read(await page.locator('#qr').screenshot({ type: 'png' }));
    const result = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
    return result ? result.data : null;
  } finally {
    await browser.close();
  }
}
