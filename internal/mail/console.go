package mail

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Console is the development "console outbox": instead of sending, it writes
// each message, body included, to a writer as a delimited block, so that a
// developer can open a magic link without a mail server. Because it prints
// secrets it is for local development only. It is safe for concurrent use;
// blocks from concurrent sends never interleave.
type Console struct {
	mu sync.Mutex
	w  io.Writer
}

// NewConsole returns a Console writing to w (normally os.Stderr).
func NewConsole(w io.Writer) *Console {
	return &Console{w: w}
}

// Console block delimiters.
const (
	consoleBegin = "======== ward console outbox: message ========"
	consoleEnd   = "======== ward console outbox: end ========"
)

// Send writes m to the console writer. It returns ctx's error if ctx has
// ended, the same validation errors as SMTP.Send (ErrHeaderInjection,
// ErrInvalidAddress, ErrInvalidText), or the writer's error, wrapped.
func (c *Console) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := m.validate(); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(consoleBegin + "\n")
	b.WriteString("To: " + m.To + "\n")
	b.WriteString("Subject: " + m.Subject + "\n\n")
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	b.WriteString(text)
	if !strings.HasSuffix(text, "\n") {
		b.WriteString("\n")
	}
	b.WriteString(consoleEnd + "\n")

	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("mail: console outbox write: %w", err)
	}
	return nil
}
