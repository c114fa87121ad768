package main

import (
	"context"
	"errors"
	"io"
)

// deidCommand is replaced when the de-identification engine lands.
func deidCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("deid: not built into this binary yet")
}
