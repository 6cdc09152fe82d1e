-- mssql DDL compiled from migrations/ without a database (npm run db:mssql-schema). Do not edit.
-- Values appear inline here; at run time knex binds them as parameters.
-- 20261123000001_enum_tables
CREATE TABLE [ProviderNames] ([ID] int not null, [Name] nvarchar(50) not null, [IsActive] bit not null CONSTRAINT [providernames_isactive_default] DEFAULT '1', [CreatedAt] datetime2 not null, CONSTRAINT [PK_ProviderNames] PRIMARY KEY ([ID]));
CREATE UNIQUE INDEX [UX_ProviderNames_Name] ON [ProviderNames] ([Name]) WHERE [Name] IS NOT NULL;
insert into [ProviderNames] ([CreatedAt], [ID], [IsActive], [Name]) values ('2026-11-23 00:00:00.000', 1, true, 'twilio'), ('2026-11-23 00:00:00.000', 2, true, 'plivo'), ('2026-11-23 00:00:00.000', 3, true, 'simulator');
CREATE TABLE [VenuePhoneNumberStatuses] ([ID] int not null, [Name] nvarchar(50) not null, [IsActive] bit not null CONSTRAINT [venuephonenumberstatuses_isactive_default] DEFAULT '1', [CreatedAt] datetime2 not null, CONSTRAINT [PK_VenuePhoneNumberStatuses] PRIMARY KEY ([ID]));
CREATE UNIQUE INDEX [UX_VenuePhoneNumberStatuses_Name] ON [VenuePhoneNumberStatuses] ([Name]) WHERE [Name] IS NOT NULL;
insert into [VenuePhoneNumberStatuses] ([CreatedAt], [ID], [IsActive], [Name]) values ('2026-11-23 00:00:00.000', 1, true, 'active'), ('2026-11-23 00:00:00.000', 2, true, 'inactive'), ('2026-11-23 00:00:00.000', 3, true, 'released');
CREATE TABLE [SmsConsentStatuses] ([ID] int not null, [Name] nvarchar(50) not null, [IsActive] bit not null CONSTRAINT [smsconsentstatuses_isactive_default] DEFAULT '1', [CreatedAt] datetime2 not null, CONSTRAINT [PK_SmsConsentStatuses] PRIMARY KEY ([ID]));
CREATE UNIQUE INDEX [UX_SmsConsentStatuses_Name] ON [SmsConsentStatuses] ([Name]) WHERE [Name] IS NOT NULL;
insert into [SmsConsentStatuses] ([CreatedAt], [ID], [IsActive], [Name]) values ('2026-11-23 00:00:00.000', 1, true, 'opted_in'), ('2026-11-23 00:00:00.000', 2, true, 'opted_out');
CREATE TABLE [ConsentSources] ([ID] int not null, [Name] nvarchar(50) not null, [IsActive] bit not null CONSTRAINT [consentsources_isactive_default] DEFAULT '1', [CreatedAt] datetime2 not null, CONSTRAINT [PK_ConsentSources] PRIMARY KEY ([ID]));
CREATE UNIQUE INDEX [UX_ConsentSources_Name] ON [ConsentSources] ([Name]) WHERE [Name] IS NOT NULL;
insert into [ConsentSources] ([CreatedAt], [ID], [IsActive], [Name]) values ('2026-11-23 00:00:00.000', 1, true, 'checkout'), ('2026-11-23 00:00:00.000', 2, true, 'account_settings'), ('2026-11-23 00:00:00.000', 3, true, 'support_request'), ('2026-11-23 00:00:00.000', 4, true, 'provider_webhook'), ('2026-11-23 00:00:00.000', 5, true, 'provider_error'), ('2026-11-23 00:00:00.000', 6, true, 'internal_api');
CREATE TABLE [SmsSendHistoryStatuses] ([ID] int not null, [Name] nvarchar(30) not null, [IsActive] bit not null CONSTRAINT [smssendhistorystatuses_isactive_default] DEFAULT '1', [CreatedAt] datetime2 not null, CONSTRAINT [PK_SmsSendHistoryStatuses] PRIMARY KEY ([ID]));
CREATE UNIQUE INDEX [UX_SmsSendHistoryStatuses_Name] ON [SmsSendHistoryStatuses] ([Name]) WHERE [Name] IS NOT NULL;
insert into [SmsSendHistoryStatuses] ([CreatedAt], [ID], [IsActive], [Name]) values ('2026-11-23 00:00:00.000', 1, true, 'sent'), ('2026-11-23 00:00:00.000', 2, true, 'failed'), ('2026-11-23 00:00:00.000', 3, true, 'skipped_no_consent'), ('2026-11-23 00:00:00.000', 4, true, 'blocked_opted_out');
-- 20261123000002_business_tables
CREATE TABLE [VenuePhoneNumbers] ([ID] int identity(1,1) not null primary key, [VenueID] int not null, [PhoneNumber] nvarchar(20) not null, [ProviderID] nvarchar(100) not null, [ProviderNameID] int not null, [StatusID] int not null, [FriendlyName] nvarchar(100) null, [AssignedAt] datetime2 not null, [ReleasedAt] datetime2 null, [CreatedAt] datetime2 not null, [UpdatedAt] datetime2 not null, CONSTRAINT [FK_VenuePhoneNumbers_ProviderNames] FOREIGN KEY ([ProviderNameID]) REFERENCES [ProviderNames] ([ID]), CONSTRAINT [FK_VenuePhoneNumbers_VenuePhoneNumberStatuses] FOREIGN KEY ([StatusID]) REFERENCES [VenuePhoneNumberStatuses] ([ID]));
CREATE INDEX [IX_VenuePhoneNumbers_PhoneNumber] ON [VenuePhoneNumbers] ([PhoneNumber]);
CREATE INDEX [IX_VenuePhoneNumbers_VenueID] ON [VenuePhoneNumbers] ([VenueID]);
CREATE UNIQUE INDEX [UX_VenuePhoneNumbers_Venue_Provider_Active] ON [VenuePhoneNumbers] ([VenueID], [ProviderNameID]) where [StatusID] = 1;
CREATE TABLE [SmsConsent] ([ID] int identity(1,1) not null primary key, [VenueID] int not null, [PhoneNumber] nvarchar(20) not null, [StatusID] int not null, [ConsentSourceID] int null, [InitialConsentAt] datetime2 null, [OptedOutAt] datetime2 null, [OptedInAt] datetime2 null, [LastChangeAt] datetime2 not null, [LastProviderMessageID] nvarchar(100) null, [CreatedAt] datetime2 not null, [UpdatedAt] datetime2 not null, CONSTRAINT [FK_SmsConsent_SmsConsentStatuses] FOREIGN KEY ([StatusID]) REFERENCES [SmsConsentStatuses] ([ID]), CONSTRAINT [FK_SmsConsent_ConsentSources] FOREIGN KEY ([ConsentSourceID]) REFERENCES [ConsentSources] ([ID]));
CREATE UNIQUE INDEX [UX_SmsConsent_Venue_Phone] ON [SmsConsent] ([VenueID], [PhoneNumber]) WHERE [VenueID] IS NOT NULL AND [PhoneNumber] IS NOT NULL;
CREATE INDEX [IX_SmsConsent_PhoneNumber] ON [SmsConsent] ([PhoneNumber]);
CREATE TABLE [SmsSendHistory] ([ID] bigint identity(1,1) not null primary key, [OrderID] uniqueidentifier not null, [OrderNumber] nvarchar(50) null, [VenueID] int not null, [VenuePhoneNumberID] int null, [CustomerID] uniqueidentifier not null, [CustomerPhoneNumber] nvarchar(20) not null, [Message] nvarchar(500) not null, [ProviderNameID] int not null, [StatusID] int not null, [ProviderMessageID] nvarchar(100) null, [ErrorCode] nvarchar(50) null, [ErrorMessage] nvarchar(500) null, [CorrelationID] nvarchar(100) null, [IdempotencyKey] nvarchar(200) not null, [CreatedAt] datetime2 not null, CONSTRAINT [FK_SmsSendHistory_VenuePhoneNumbers] FOREIGN KEY ([VenuePhoneNumberID]) REFERENCES [VenuePhoneNumbers] ([ID]), CONSTRAINT [FK_SmsSendHistory_ProviderNames] FOREIGN KEY ([ProviderNameID]) REFERENCES [ProviderNames] ([ID]), CONSTRAINT [FK_SmsSendHistory_SmsSendHistoryStatuses] FOREIGN KEY ([StatusID]) REFERENCES [SmsSendHistoryStatuses] ([ID]));
CREATE UNIQUE INDEX [UX_SmsSendHistory_IdempotencyKey] ON [SmsSendHistory] ([IdempotencyKey]) WHERE [IdempotencyKey] IS NOT NULL;
CREATE INDEX [IX_SmsSendHistory_OrderID] ON [SmsSendHistory] ([OrderID]);
CREATE INDEX [IX_SmsSendHistory_Venue_CreatedAt] ON [SmsSendHistory] ([VenueID], [CreatedAt]);
CREATE INDEX [IX_SmsSendHistory_Phone_Venue] ON [SmsSendHistory] ([CustomerPhoneNumber], [VenueID]);
CREATE INDEX [IX_SmsSendHistory_CreatedAt] ON [SmsSendHistory] ([CreatedAt]);
-- 20261128000002_delivery_status
ALTER TABLE [SmsSendHistory] ADD [DeliveryStatus] nvarchar(20) null, [DeliveryErrorCode] nvarchar(50) null, [DeliveryUpdatedAt] datetime2 null;
CREATE INDEX [IX_SmsSendHistory_ProviderMessageID] ON [SmsSendHistory] ([ProviderMessageID]);
