"""What the strategies share: the premium sellers' config fields, exit rules as data, scan helpers,
and the single-expiry strategy base."""
