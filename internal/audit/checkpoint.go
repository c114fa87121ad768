package audit

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
)

// ErrBadCheckpoint means a checkpoint note that does not verify under the
// given key or is not a well-formed C2SP tlog-checkpoint.
var ErrBadCheckpoint = errors.New("audit: checkpoint does not verify")

// Checkpoint is a signed tree head: a C2SP tlog-checkpoint signed note
// (origin line, tree size, base64 root hash) over one org's log. It proves
// that the signer saw the log with Size events whose RFC 6962 root was
// Root; anyone with the verifier key can check an inclusion or consistency
// proof against it, with no access to the database.
type Checkpoint struct {
	Origin string `json:"origin"`
	Size   int64  `json:"size"`
	Root   Hash   `json:"root"`
	// Note is the signed note as text (body, blank line, signature lines).
	Note string `json:"note"`
}

// CheckpointBody is the note text a checkpoint signs.
func CheckpointBody(origin string, size int64, root Hash) string {
	return origin + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
}

// SignCheckpoint signs the checkpoint of origin at size and root.
func SignCheckpoint(signer note.Signer, origin string, size int64, root Hash) (Checkpoint, error) {
	msg, err := note.Sign(&note.Note{Text: CheckpointBody(origin, size, root)}, signer)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	return Checkpoint{Origin: origin, Size: size, Root: root, Note: string(msg)}, nil
}

// OpenOrgCheckpoint is OpenCheckpoint for a checkpoint of org's log: the
// instance's key signs every org's log, so a signature alone does not say
// whose log a note is of. Errors wrap ErrBadCheckpoint.
func OpenOrgCheckpoint(signed, vkey string, org uuid.UUID) (Checkpoint, error) {
	cp, err := OpenCheckpoint(signed, vkey)
	if err == nil && cp.Origin != Origin(org) {
		err = fmt.Errorf("%w: signed for another log, not this org's", ErrBadCheckpoint)
	}
	return cp, err
}

// OpenCheckpoint verifies a signed checkpoint note under the verifier key
// vkey (C2SP signed-note format, as `ward audit checkpoint key` prints it)
// and parses it. Errors wrap ErrBadCheckpoint.
func OpenCheckpoint(signed, vkey string) (Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: bad verifier key: %v", ErrBadCheckpoint, err)
	}
	n, err := note.Open([]byte(signed), note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 || lines[0] == "" {
		return Checkpoint{}, fmt.Errorf("%w: not a checkpoint (origin, size, root)", ErrBadCheckpoint)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("%w: malformed tree size", ErrBadCheckpoint)
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	root, ok := hashFrom(raw)
	if err != nil || !ok {
		return Checkpoint{}, fmt.Errorf("%w: malformed root hash", ErrBadCheckpoint)
	}
	return Checkpoint{Origin: lines[0], Size: size, Root: root, Note: signed}, nil
}
