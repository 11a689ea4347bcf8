// Exits 0 where the runtime parses `using` natively.
{
  using _probe = null
}
