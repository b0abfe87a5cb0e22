package httpx

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"unicode/utf8"

	"custos/internal/crm"
)

// Upload is a file received in a multipart/form-data body. A small one is
// held in memory; a larger one in a temporary file that is unlinked as
// soon as it is made, so nothing is left behind in the temporary directory
// whatever happens to the process. Close releases it.
type Upload struct {
	Name string
	Size int64
	mem  *bytes.Reader
	file *os.File
}

// uploadInMemory is the size up to which an upload stays in memory.
const uploadInMemory = 8 << 20

// maxUploadFields bounds the text parts of an upload form together.
const maxUploadFields = 1 << 20

// ReadAt implements io.ReaderAt.
func (u *Upload) ReadAt(p []byte, off int64) (int, error) {
	if u.file != nil {
		return u.file.ReadAt(p, off)
	}
	return u.mem.ReadAt(p, off)
}

// Close releases the upload's storage.
func (u *Upload) Close() error {
	if u == nil || u.file == nil {
		return nil
	}
	return u.file.Close()
}

// MultipartReader checks that r carries a multipart/form-data body of at
// most limit bytes — refusing a larger one by its Content-Length before any
// of it is read (413) — and returns a reader of its parts that stops at
// limit bytes whatever the client declared.
func MultipartReader(w http.ResponseWriter, r *http.Request, limit int64) (*multipart.Reader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, &crm.Error{Code: crm.UnsupportedMediaType, Key: "media_type_multipart", Message: "send the file as multipart/form-data",
			Fields: []crm.FieldError{{Field: "content_type", Rule: "media_type"}}}
	}
	if r.ContentLength > limit {
		return nil, uploadTooLarge(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return multipart.NewReader(r.Body, params["boundary"]), nil
}

// ReadParts reads the rest of a multipart body: the text fields (UTF-8,
// at most 1 MB together) and the one file part named fileField. A second
// file, a file under another name, or a body cut short is refused naming
// the part; a body over the reader's limit is 413. The caller closes the
// upload.
func ReadParts(mr *multipart.Reader, fileField string, limit int64) (url.Values, *Upload, error) {
	fields := url.Values{}
	var up *Upload
	fail := func(err error) (url.Values, *Upload, error) {
		up.Close()
		return nil, nil, err
	}
	textLeft := int64(maxUploadFields)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(partError(err, "body", limit))
		}
		name := part.FormName()
		if part.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(part, textLeft+1))
			if err != nil {
				return fail(partError(err, name, limit))
			}
			if textLeft -= int64(len(b)); textLeft < 0 {
				return fail(uploadTooLarge(maxUploadFields))
			}
			if !utf8.Valid(b) || !utf8.ValidString(name) {
				return fail(bodyProblem("encoding", name, "encoding", "", "form field "+name+" is not UTF-8"))
			}
			fields.Add(name, string(b))
			continue
		}
		if name != fileField || up != nil {
			return fail(bodyProblem("invalid", name, "unknown", "", "unexpected file part "+strconv.Quote(name)))
		}
		if up, err = receive(part, limit); err != nil {
			return fail(partError(err, name, limit))
		}
	}
	if up == nil {
		return nil, nil, &crm.Error{Code: crm.Invalid, Key: "invalid", Message: "no file part " + strconv.Quote(fileField),
			Fields: []crm.FieldError{{Field: fileField, Rule: "required"}}}
	}
	return fields, up, nil
}

// receive stores one file part: in memory while it is small, then in an
// unlinked temporary file.
func receive(part *multipart.Part, limit int64) (*Upload, error) {
	up := &Upload{Name: part.FileName()}
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, part, uploadInMemory+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n <= uploadInMemory {
		up.Size, up.mem = n, bytes.NewReader(buf.Bytes())
		return up, nil
	}
	f, err := os.CreateTemp("", "custos-upload-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	up.file = f
	total, err := io.Copy(f, io.MultiReader(&buf, part))
	if err != nil {
		f.Close()
		return nil, err
	}
	if total > limit {
		f.Close()
		return nil, uploadTooLarge(limit)
	}
	up.Size = total
	return up, nil
}

// partError names what went wrong reading a part: the body over its
// limit (413) or cut short.
func partError(err error, field string, limit int64) error {
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return uploadTooLarge(limit)
	}
	var ce *crm.Error
	if errors.As(err, &ce) {
		return err
	}
	return bodyProblem("bad_request", field, "unreadable", "", "reading the multipart body: "+err.Error())
}

// uploadTooLarge refuses an upload over limit bytes, naming the file.
func uploadTooLarge(limit int64) error {
	err := tooLarge(limit).(*crm.Error)
	err.Fields[0].Field = "file"
	return err
}

// WriteDownload sends a file to save, never to keep in a cache.
func WriteDownload(w http.ResponseWriter, name, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
