package dispatch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"gridline.dev/gridline"
)

// DefaultMaxAttachment is the largest photo accepted when Options do not say: 5 MiB.
const DefaultMaxAttachment = 5 << 20

// MaxAttachments is the most photos one request may carry.
const MaxAttachments = 8

// imageType is the content type of b by its magic bytes, or "" when b is not an image gridline
// accepts (JPEG, PNG, WebP, GIF). The type a client declares is not trusted.
func imageType(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case len(b) >= 12 && bytes.Equal(b[0:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return "image/webp"
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	}
	return ""
}

// Photo is an uploaded file as a request carries it.
type Photo struct {
	Name  string
	Kind  string // before or after
	Bytes []byte
}

// checkPhotos turns photos into attachments: each an image by its magic bytes, at most max
// bytes, before or after; the index of the photo is in the error.
func checkPhotos(photos []Photo, max int, defaultKind string) ([]Attachment, error) {
	if len(photos) > MaxAttachments {
		return nil, gridline.Errorf(gridline.EInvalid, "%d photos: a request carries at most %d", len(photos), MaxAttachments).With("field", "photos")
	}
	out := make([]Attachment, 0, len(photos))
	for i, p := range photos {
		kind := p.Kind
		if kind == "" {
			kind = defaultKind
		}
		if kind != "before" && kind != "after" {
			return nil, gridline.Errorf(gridline.EInvalid, "photo %d (%s): kind %q is not before or after", i+1, gridline.Excerpt(p.Name), gridline.Excerpt(kind)).With("field", "photos").With("index", i)
		}
		if len(p.Bytes) == 0 {
			return nil, gridline.Errorf(gridline.EInvalid, "photo %d (%s) is empty", i+1, gridline.Excerpt(p.Name)).With("field", "photos").With("index", i)
		}
		if len(p.Bytes) > max {
			return nil, gridline.Errorf(gridline.ETooLarge, "photo %d (%s) is %d bytes: the limit is %d bytes; send a smaller image", i+1, gridline.Excerpt(p.Name), len(p.Bytes), max).
				With("field", "photos").With("index", i).With("limit", max)
		}
		ct := imageType(p.Bytes)
		if ct == "" {
			return nil, gridline.Errorf(gridline.EInvalid, "photo %d (%s) is not a JPEG, PNG, WebP or GIF image (judged by its first bytes, not its name or declared type)", i+1, gridline.Excerpt(p.Name)).
				With("field", "photos").With("index", i)
		}
		sum := sha256.Sum256(p.Bytes)
		out = append(out, Attachment{Kind: kind, ContentType: ct, Name: p.Name, Size: len(p.Bytes), SHA256: hex.EncodeToString(sum[:]), Bytes: p.Bytes})
	}
	return out, nil
}
