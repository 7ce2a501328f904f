//! Screenshots to PNG: the encoder `--screenshot` uses, and the crop to
//! the plot area for File ▸ Export plot as PNG.

use egui::{ColorImage, Rect};

/// An image as PNG bytes (8-bit sRGB RGBA, unmultiplied).
pub fn encode_png(image: &ColorImage) -> Result<Vec<u8>, String> {
    let [w, h] = image.size;
    let (w32, h32) = (
        u32::try_from(w).map_err(|_| "image too wide for PNG")?,
        u32::try_from(h).map_err(|_| "image too tall for PNG")?,
    );
    if w == 0 || h == 0 {
        return Err("an empty image has no PNG".into());
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w32, h32);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        let bytes: Vec<u8> = image
            .pixels
            .iter()
            .flat_map(|c| c.to_srgba_unmultiplied())
            .collect();
        writer.write_image_data(&bytes).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The part of a screenshot under `rect` (in points; the image is in
/// pixels, `pixels_per_point` of them per point), clipped to the image.
/// None when nothing of `rect` is inside it.
pub fn crop(image: &ColorImage, rect: Rect, pixels_per_point: f32) -> Option<ColorImage> {
    let [w, h] = image.size;
    let px = |v: f32, max: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(max);
    let (x0, x1) = (px(rect.min.x, w), px(rect.max.x, w));
    let (y0, y1) = (px(rect.min.y, h), px(rect.max.y, h));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let mut pixels = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        pixels.extend_from_slice(image.pixels.get(y * w + x0..y * w + x1)?);
    }
    Some(ColorImage::new([x1 - x0, y1 - y0], pixels))
}

/// The PNG of the plot area `rect` of a window screenshot.
pub fn plot_png(image: &ColorImage, rect: Rect, pixels_per_point: f32) -> Result<Vec<u8>, String> {
    let part = crop(image, rect, pixels_per_point).ok_or_else(|| {
        format!(
            "the plot area ({:.0}×{:.0} points) is outside the {}×{} pixel screenshot",
            rect.width(),
            rect.height(),
            image.size[0],
            image.size[1]
        )
    })?;
    encode_png(&part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::Color32;

    /// Decode PNG bytes: (width, height, RGBA bytes).
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("a frame");
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn the_plot_area_is_cut_out_at_the_pixel_scale_and_encoded() {
        // 40×20 pixels at 2 pixels per point: blue, one red pixel at (13, 5).
        let mut image = ColorImage::new([40, 20], vec![Color32::BLUE; 800]);
        image.pixels[5 * 40 + 13] = Color32::RED;
        // Points (5, 2)–(12, 8) are pixels (10, 4)–(24, 16).
        let rect = Rect::from_min_max(egui::pos2(5.0, 2.0), egui::pos2(12.0, 8.0));
        let png = plot_png(&image, rect, 2.0).expect("encoded");
        let (w, h, rgba) = decode(&png);
        assert_eq!((w, h), (14, 12));
        let at = |x: usize, y: usize| &rgba[(y * w as usize + x) * 4..][..4];
        assert_eq!(
            at(3, 1),
            [255, 0, 0, 255],
            "the red pixel, moved by the crop"
        );
        assert_eq!(at(0, 0), [0, 0, 255, 255]);
        assert_eq!(at(13, 11), [0, 0, 255, 255]);
        // Clipped at the image's edge; nothing inside is an error.
        let wide = Rect::from_min_max(egui::pos2(15.0, 0.0), egui::pos2(99.0, 99.0));
        assert_eq!(crop(&image, wide, 2.0).map(|c| c.size), Some([10, 20]));
        let outside = Rect::from_min_max(egui::pos2(30.0, 0.0), egui::pos2(40.0, 5.0));
        let e = plot_png(&image, outside, 2.0).expect_err("nothing to crop");
        assert!(e.contains("outside"), "{e}");
    }
}
