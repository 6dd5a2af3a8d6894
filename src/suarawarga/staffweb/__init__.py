"""The staff web console at /staf/: OPD officers, heads and city admins work in a browser, signed in from chat."""
