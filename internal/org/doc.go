// Package org is mailtrail's WorkMail organization directory: the
// organizations of each account and the users in them, with the validation
// rules and error names of the WorkMail API (CreateOrganization,
// DescribeOrganization, ListOrganizations, CreateUser, ListUsers,
// DescribeUser), so an API layer can serve `aws workmail ... --endpoint-url`
// from it and the mail-server integrations can map a login (Dovecot
// `login`, Postfix `sasl_username`) to the WorkMail user id that audit
// records carry in `user_id`.
//
// # Identifiers
//
//   - Organization id: "m-" + 32 lower-case hex digits (the API's
//     `^m-[0-9a-f]{32}$`), random.
//   - Organization ARN: arn:aws:workmail:<region>:<account>:organization/<id>;
//     the region is the caller's region at creation time.
//   - User id: a random lower-case GUID (12345678-1234-1234-1234-123456789012),
//     the form WorkMail uses for users of its own directory.
//
// # Choices where WorkMail's behaviour does not fit a self-hosted directory
//
//   - Accounts are isolated: every call takes the account id and an account
//     never sees another account's organizations. Regions are not separate
//     namespaces: an organization records the region it was created in (for
//     its ARN) and is visible from every region of its account.
//   - Aliases are unique per account, compared case-insensitively
//     (NameAvailabilityException otherwise).
//   - There is no AWS Directory Service: a DirectoryId makes CreateOrganization
//     fail with DirectoryUnavailableException, EnableInteroperability with
//     InvalidParameterException. Each organization gets its own "WorkMail
//     directory" with a random d-<10 hex> id.
//   - The default mail domain is the first entry of Domains, or
//     <alias>.awsapps.com (WorkMail's test domain) when none is given.
//   - CreateUser registers the user at once (WorkMail needs a separate
//     RegisterToWorkMail call): the user is ENABLED and its email is its name
//     when the name already is an address (name@domain), else
//     name@<default mail domain>. Mailboxes live on the mail server, so there
//     is nothing to provision. RegisterUser / DeregisterUser change the state
//     and email later.
//   - Passwords are validated (length and character range) and then
//     discarded: authentication stays with the mail server (Dovecot's passdb),
//     mailtrail only needs the identity.
//   - User names, emails and aliases are compared case-insensitively;
//     stored spelling is kept for display.
//   - List operations are ordered by creation; NextToken is an opaque cursor
//     that stays valid while items are added.
//   - FindLogin maps a mail-server login to (organization, user): by email
//     across the account's organizations (emails are unique per account),
//     else by user name when exactly one organization has that name.
//
// # Storage
//
// One JSON file per account, <dir>/<account>/directory.json, rewritten
// atomically (temp file, fsync, rename, fsync of the directory) on every
// change. The whole directory of an account is held in memory once read;
// a Directory is safe for concurrent use by one process.
//
// # Errors
//
// Every API-visible failure is an *Error whose Code is the AWS exception name
// (InvalidParameterException, OrganizationNotFoundException, ...); match with
// errors.Is(err, org.ErrOrganizationNotFound) or read Code(err). Anything
// else (disk full, corrupt file) is an internal error.
package org
