"""StUF: namespaces and dialects (``namespaces``), the operation registry (``registry``), which operation a message is
(``dispatch``), what it is about (``subject``), stuurgegevens, answers and faults (``stuurgegevens``, ``answers``),
schema validation (``validation``), values and geometry (``values``, ``geometry``). Import from those modules; the
package itself exports nothing."""

__all__: list[str] = []
