"""Remote diagnostics: the window authority (CA, grants), the SSH agent, diagnostics, audit and the engineer client."""
