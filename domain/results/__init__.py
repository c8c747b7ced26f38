"""Results tables: numbers CI runs report per column and row, judged against rules and best results."""
