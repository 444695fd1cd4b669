"""REST routes, one module per resource. Each route: check the role, open a session, call one
function, map the result to a response schema."""
