package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"gridline.dev/gridline"
	"gridline.dev/gridline/dispatch"
)

// Case attachments in a configured directory (serve --attachments-dir, GRIDLINE_ATTACHMENTS_DIR)
// instead of case_attachments.bytes: one file per content, named by its SHA-256 under a directory
// of its first two hex digits (ab/abcd…), its path relative to the directory in
// case_attachments.path. A file is written (temporary file, fsync, rename, fsync of the directory)
// before the row's transaction commits, and removed when the transaction fails, unless another
// row holds the same content or another request of this process is writing it. Content already
// stored is not written again. One server process per directory: a request of another process
// writing the same content at the moment this one rolls back could find its file removed (the
// read then answers that the file is missing, not a 500).

// attachmentFiles is the directory and the contents being written by requests of this process.
type attachmentFiles struct {
	dir      string
	mu       sync.Mutex
	inflight map[string]int // sha256 -> requests writing rows for it now
}

// UseAttachmentsDir stores the attachments of new cases and transitions as files in dir (created
// when missing) instead of in the database. Rows written before, with bytes, are read as they are.
func (db *DB) UseAttachmentsDir(dir string) error {
	if dir == "" {
		db.files = nil
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("attachments directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return fmt.Errorf("attachments directory %q: %w", dir, err)
	}
	// Refuse at start, not at the first photo, a directory the server cannot write.
	f, err := os.CreateTemp(abs, ".probe-*")
	if err != nil {
		return fmt.Errorf("attachments directory %q is not writable: %w", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	db.files = &attachmentFiles{dir: abs, inflight: map[string]int{}}
	return nil
}

// AttachmentsDir is the configured directory, or "" when attachments are stored in the database.
func (db *DB) AttachmentsDir() string {
	if db.files == nil {
		return ""
	}
	return db.files.dir
}

// relPath is where content sum is stored, relative to the directory.
func relPath(sum string) string { return filepath.Join(sum[:2], sum) }

// storedFiles is what putFiles did: the contents it holds in flight, and the files it created.
type storedFiles struct {
	sums    []string
	created []string
}

// putFiles writes every attachment of list that carries bytes to the directory (when one is
// configured) and sets its Path; the rows then store the path and no bytes. Call done with the
// transaction's outcome.
func (db *DB) putFiles(list []dispatch.Attachment) (*storedFiles, error) {
	af := db.files
	sf := &storedFiles{}
	if af == nil || len(list) == 0 {
		return sf, nil
	}
	for i := range list {
		a := &list[i]
		if a.Path != "" || len(a.Bytes) == 0 {
			continue
		}
		sum := sha256.Sum256(a.Bytes)
		hexSum := hex.EncodeToString(sum[:])
		af.mu.Lock()
		af.inflight[hexSum]++
		af.mu.Unlock()
		sf.sums = append(sf.sums, hexSum)
		created, err := af.write(hexSum, a.Bytes)
		if err != nil {
			db.filesDone(context.Background(), sf, false)
			return nil, err
		}
		if created {
			sf.created = append(sf.created, hexSum)
		}
		a.Path = relPath(hexSum)
	}
	return sf, nil
}

// write stores b as content sum unless it is stored already: temporary file, fsync, rename,
// fsync of the directory. created says whether this call made the file.
func (af *attachmentFiles) write(sum string, b []byte) (created bool, err error) {
	final := filepath.Join(af.dir, relPath(sum))
	if st, err := os.Stat(final); err == nil && st.Size() == int64(len(b)) {
		return false, nil
	}
	sub := filepath.Dir(final)
	if err := os.MkdirAll(sub, 0o750); err != nil {
		return false, fmt.Errorf("attachments directory: %w", err)
	}
	f, err := os.CreateTemp(sub, ".tmp-"+sum[:8]+"-*")
	if err != nil {
		return false, fmt.Errorf("attachments directory: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("attachments directory: write %s: %w", sum, err)
	}
	if err = os.Rename(tmp, final); err != nil {
		return false, fmt.Errorf("attachments directory: %w", err)
	}
	if d, derr := os.Open(sub); derr == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return false, fmt.Errorf("attachments directory: sync %s: %w", sub, err)
		}
	}
	return true, nil
}

// filesDone ends sf: on a failed transaction, the files it created are removed when no other
// request of this process is writing the same content and no row holds it.
func (db *DB) filesDone(ctx context.Context, sf *storedFiles, committed bool) {
	af := db.files
	if af == nil || sf == nil {
		return
	}
	af.mu.Lock()
	defer af.mu.Unlock()
	for _, s := range sf.sums {
		if af.inflight[s]--; af.inflight[s] <= 0 {
			delete(af.inflight, s)
		}
	}
	if committed {
		return
	}
	for _, s := range sf.created {
		if af.inflight[s] > 0 {
			continue
		}
		var held bool
		// A row committed by another request holds it; when the database cannot say, keep the file.
		if err := db.pool.QueryRow(context.WithoutCancel(ctx), `SELECT EXISTS (SELECT 1 FROM case_attachments WHERE path = $1)`, relPath(s)).Scan(&held); err != nil || held {
			continue
		}
		os.Remove(filepath.Join(af.dir, relPath(s)))
	}
}

// readFile is the content of attachment a stored at path, checked against its SHA-256.
func (db *DB) readFile(a *dispatch.Attachment, path string) error {
	where := fmt.Sprintf("attachment %d of case %d is stored as the file %s of the attachments directory", a.ID, a.CaseID, path)
	if db.files == nil {
		return gridline.Errorf(gridline.ENotFound, "%s, but this server has no attachments directory: start it with --attachments-dir (GRIDLINE_ATTACHMENTS_DIR) set to that directory", where).
			With("attachment", a.ID)
	}
	clean := filepath.Clean(path)
	if filepath.IsAbs(clean) || clean == ".." || len(clean) > 2 && clean[:3] == ".."+string(filepath.Separator) {
		return gridline.Errorf(gridline.ENotFound, "%s, which is not a path inside it", where).With("attachment", a.ID)
	}
	b, err := os.ReadFile(filepath.Join(db.files.dir, clean))
	if errors.Is(err, fs.ErrNotExist) {
		return gridline.Errorf(gridline.ENotFound, "%s, but the file is missing: an administrator must restore it (from a backup of the directory)", where).
			With("attachment", a.ID).With("missing_file", path)
	}
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != a.SHA256 {
		return gridline.Errorf(gridline.ENotFound, "%s, but the file no longer holds the photo stored (its SHA-256 differs): an administrator must restore it", where).
			With("attachment", a.ID).With("corrupt_file", path)
	}
	a.Bytes = b
	return nil
}
